package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import org.junit.jupiter.api.Test;

/**
 * Five layers of one sigmoid neuron each: a_i = sigmoid(w_i a_{i-1} + b_i), L = (a_5 - t)^2.
 * By the chain rule dL/dw_i = dL/da_5 * prod_{j>i} (sigma'(z_j) w_j) * sigma'(z_i) a_{i-1}:
 * each layer further from the loss multiplies in another sigma'(z) w <= 0.25 |w|, so the gradient vanishes.
 */
class VanishingGradientTest {
    static final float[] W = {0.9f, -0.8f, 1.0f, 0.7f, -0.6f};
    static final float B = 0.1f;

    @Test
    void eachLayersGradientIsTheProductOfLocalDerivativesAndShrinksTowardTheInput() {
        GraphBuilder b = Graph.builder().defaultInit(Init.ZEROS);
        Node a = b.input("x", 1, 1);
        for (int i = 1; i <= 5; i++) a = b.sigmoid(b.dense("l" + i, a, 1));
        b.mse(a);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 0);
        for (int i = 1; i <= 5; i++) {
            t.setParam("l" + i + ".W", new float[] {W[i - 1]});
            t.setParam("l" + i + ".b", new float[] {B});
        }
        float x = 0.5f, target = 1f;
        t.gradients(new float[] {x}, new float[] {target}, 1);

        // closed form in double: forward, then the product of local derivatives
        double[] act = new double[6];
        double[] dsig = new double[6];
        act[0] = x;
        for (int i = 1; i <= 5; i++) {
            double z = W[i - 1] * act[i - 1] + B;
            act[i] = 1 / (1 + Math.exp(-z));
            dsig[i] = act[i] * (1 - act[i]);
        }
        double upstream = 2 * (act[5] - target); // dL/da_5
        double[] expected = new double[6];
        for (int i = 5; i >= 1; i--) {
            double dz = upstream * dsig[i];      // dL/dz_i
            expected[i] = dz * act[i - 1];       // dL/dw_i
            assertEquals(dz, t.grad("l" + i + ".b")[0], 1e-7 + 1e-5 * Math.abs(dz), "dL/db" + i);
            upstream = dz * W[i - 1];            // dL/da_{i-1}
        }
        double previous = Double.POSITIVE_INFINITY;
        for (int i = 5; i >= 1; i--) {
            float g = t.grad("l" + i + ".W")[0];
            assertEquals(expected[i], g, 1e-8 + 1e-5 * Math.abs(expected[i]), "dL/dw" + i);
            assertTrue(Math.abs(g) < previous, "layer " + i + " gradient " + g + " should be smaller than layer " + (i + 1) + "'s " + previous);
            previous = Math.abs(g);
        }
        // the first layer's gradient is at least 10x smaller than the last's
        assertTrue(Math.abs(t.grad("l1.W")[0]) * 10 < Math.abs(t.grad("l5.W")[0]));
    }
}
