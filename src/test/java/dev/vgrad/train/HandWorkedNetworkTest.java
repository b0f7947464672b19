package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import org.junit.jupiter.api.Test;

/**
 * A 2-2-1 network worked through by hand: x = [1, 2], hidden h = sigmoid(x W1 + b1), output
 * y = h W2 + b2, loss (y - 1)^2, one SGD step with lr = 0.5.
 *
 * <pre>
 * W1 = [[0.1, 0.2], [0.3, 0.4]]  b1 = [0, 0.1]   W2 = [[0.5], [0.6]]  b2 = [0.2]
 * z1 = x W1 + b1      = [1*0.1 + 2*0.3 + 0, 1*0.2 + 2*0.4 + 0.1]     = [0.7, 1.1]
 * h  = sigmoid(z1)    = [0.668187772, 0.750260106]
 * y  = h W2 + b2      = 0.5*0.668187772 + 0.6*0.750260106 + 0.2      = 0.984249949
 * L  = (y - 1)^2      = (-0.015750051)^2                           = 0.000248064
 * dL/dy  = 2 (y - 1)                                               = -0.031500101
 * dL/dW2 = hᵀ dL/dy   = [0.668187772, 0.750260106] * -0.031500101   = [-0.021047982, -0.023633269]
 * dL/db2 = dL/dy                                                   = -0.031500101
 * dL/dh  = dL/dy W2ᵀ  = [-0.015750051, -0.018900061]
 * dL/dz1 = dL/dh * h (1 - h) = [-0.015750051*0.221712, -0.018900061*0.187370] = [-0.003491989, -0.003541302]
 * dL/dW1 = xᵀ dL/dz1  = [[-0.003491989, -0.003541302], [-0.006983978, -0.007082604]]
 * dL/db1 = dL/dz1
 * after SGD (p -= 0.5 g): W1 = [[0.101745994, 0.201770651], [0.303491989, 0.403541302]],
 *   b1 = [0.001745994, 0.101770651], W2 = [[0.510523991], [0.611816635]], b2 = [0.215750051]
 * </pre>
 */
class HandWorkedNetworkTest {
    static final float TOL = 1e-6f;

    Trainer build() {
        GraphBuilder b = Graph.builder().defaultInit(Init.ZEROS);
        Node x = b.input("x", 1, 2);
        Node h = b.sigmoid(b.dense("hidden", x, 2));
        Node y = b.dense("out", h, 1);
        b.mse(y);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.5f), 0);
        t.setParam("hidden.W", new float[] {0.1f, 0.2f, 0.3f, 0.4f});
        t.setParam("hidden.b", new float[] {0f, 0.1f});
        t.setParam("out.W", new float[] {0.5f, 0.6f});
        t.setParam("out.b", new float[] {0.2f});
        return t;
    }

    @Test
    void forwardValuesMatchTheHandComputation() {
        Trainer t = build();
        float[] y = new float[1];
        t.forward(new float[] {1f, 2f}, 1, y);
        assertEquals(0.984249949f, y[0], TOL);
        assertEquals(0.000248064, t.loss(new float[] {1f, 2f}, new float[] {1f}, 1), 1e-8);
    }

    @Test
    void everyGradientMatchesTheChainRuleByHand() {
        Trainer t = build();
        double loss = t.gradients(new float[] {1f, 2f}, new float[] {1f}, 1);
        assertEquals(0.000248064, loss, 1e-8);
        assertArrayEquals(new float[] {-0.021047982f, -0.023633269f}, t.grad("out.W"), TOL);
        assertArrayEquals(new float[] {-0.031500101f}, t.grad("out.b"), TOL);
        assertArrayEquals(new float[] {-0.003491989f, -0.003541302f, -0.006983978f, -0.007082604f}, t.grad("hidden.W"), TOL);
        assertArrayEquals(new float[] {-0.003491989f, -0.003541302f}, t.grad("hidden.b"), TOL);
    }

    @Test
    void oneSgdStepMovesEachWeightAgainstItsGradient() {
        Trainer t = build();
        double loss = t.step(new float[] {1f, 2f}, new float[] {1f}, 1);
        assertEquals(0.000248064, loss, 1e-8);
        assertArrayEquals(new float[] {0.101745994f, 0.201770651f, 0.303491989f, 0.403541302f}, t.param("hidden.W"), TOL);
        assertArrayEquals(new float[] {0.001745994f, 0.101770651f}, t.param("hidden.b"), TOL);
        assertArrayEquals(new float[] {0.510523991f, 0.611816635f}, t.param("out.W"), TOL);
        assertArrayEquals(new float[] {0.215750051f}, t.param("out.b"), TOL);
    }
}
