package dev.vgrad.props;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * One case per op worked by hand, beside the oracles (an oracle can share a bug): forward values and
 * gradients through the engine, with the numbers written out. Non-loss ops get an upstream gradient c
 * in place of the loss's (see {@link EngineRun#seedPredictionGradient}).
 */
class HandWorkedCasesTest {
    static final float EPS = 1e-6f;

    /** Runs y = op(x...) with dL/dy = c and returns the engine run for reading values and gradients. */
    static EngineRun seeded(Graph g, Map<String, float[]> values, float[] c) {
        EngineRun run = new EngineRun(g);
        run.forward(values, g.inputs().get(0).shape().rows());
        run.seedPredictionGradient(c, g.inputs().get(0).shape().rows());
        run.backward(g.inputs().get(0).shape().rows());
        return run;
    }

    static Map<String, float[]> values(Graph g, Object... kv) {
        Map<String, float[]> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (float[]) kv[i + 1]);
        Node t = g.loss().input(1);
        m.putIfAbsent(t.name(), new float[t.shape().size()]);
        return m;
    }

    static float[] output(EngineRun run) { return run.output; }

    static Graph unary(Activation a, float alpha, int n) {
        GraphBuilder b = Graph.builder();
        b.mse(b.activation(a, b.input("x", 1, n, true), alpha));
        return b.build();
    }

    @Test
    @DisplayName("relu(-1, 2) = (0, 2); with dL/dy = (3, 5), dL/dx = (0, 5)")
    void relu() {
        Graph g = unary(Activation.RELU, 0f, 2);
        EngineRun r = seeded(g, values(g, "x", new float[] {-1, 2}), new float[] {3, 5});
        assertArrayEquals(new float[] {0, 2}, output(r), EPS);
        assertArrayEquals(new float[] {0, 5}, r.grad("x", 1), EPS);
    }

    @Test
    @DisplayName("leaky-relu 0.1 of (-2, 3) = (-0.2, 3); with dL/dy = (1, 1), dL/dx = (0.1, 1)")
    void leakyRelu() {
        Graph g = unary(Activation.LEAKY_RELU, 0.1f, 2);
        EngineRun r = seeded(g, values(g, "x", new float[] {-2, 3}), new float[] {1, 1});
        assertArrayEquals(new float[] {-0.2f, 3}, output(r), EPS);
        assertArrayEquals(new float[] {0.1f, 1}, r.grad("x", 1), EPS);
    }

    @Test
    @DisplayName("sigmoid(0) = 0.5, sigmoid'(0) = 0.25; tanh(ln(3)/2) = 0.5, tanh' = 0.75")
    void sigmoidAndTanh() {
        Graph g = unary(Activation.SIGMOID, 0f, 1);
        EngineRun r = seeded(g, values(g, "x", new float[] {0}), new float[] {2});
        assertArrayEquals(new float[] {0.5f}, output(r), EPS);
        assertArrayEquals(new float[] {0.5f}, r.grad("x", 1), EPS);
        Graph t = unary(Activation.TANH, 0f, 1);
        EngineRun rt = seeded(t, values(t, "x", new float[] {(float) (Math.log(3) / 2)}), new float[] {4});
        assertArrayEquals(new float[] {0.5f}, output(rt), EPS);
        assertArrayEquals(new float[] {3f}, rt.grad("x", 1), 4e-6f);
    }

    @Test
    @DisplayName("gelu(1) = 0.8411920, gelu'(1) = 1.0829641; gelu(-1) = -0.1588080, gelu'(-1) = -0.0829641; gelu'(0) = 0.5")
    void gelu() {
        Graph g = unary(Activation.GELU, 0f, 3);
        EngineRun r = seeded(g, values(g, "x", new float[] {1, -1, 0}), new float[] {1, 1, 1});
        assertArrayEquals(new float[] {0.8411920f, -0.1588080f, 0f}, output(r), 2e-6f);
        assertArrayEquals(new float[] {1.0829641f, -0.0829641f, 0.5f}, r.grad("x", 1), 2e-6f);
    }

    @Test
    @DisplayName("softmax(0, ln 3) = (0.25, 0.75); with dL/dy = (1, 0), dL/dx = (0.1875, -0.1875)")
    void softmax() {
        GraphBuilder b = Graph.builder();
        b.mse(b.softmax(b.input("x", 1, 2, true)));
        Graph g = b.build();
        EngineRun r = seeded(g, values(g, "x", new float[] {0, (float) Math.log(3)}), new float[] {1, 0});
        assertArrayEquals(new float[] {0.25f, 0.75f}, output(r), EPS);
        assertArrayEquals(new float[] {0.1875f, -0.1875f}, r.grad("x", 1), EPS);
    }

    static Graph dense(Activation a) {
        GraphBuilder b = Graph.builder();
        Node z = b.dense("fc", b.input("x", 1, 2, true), 3);
        b.mse(a == Activation.IDENTITY ? z : b.activation(a, z));
        return b.build();
    }

    @Test
    @DisplayName("dense: (1, 2) W + b = (5.5, 1, -1); dW = xᵀ c, db = c, dx = c Wᵀ = (-2, 4)")
    void dense() {
        Graph g = dense(Activation.IDENTITY);
        EngineRun r = seeded(g, values(g, "x", new float[] {1, 2}, "fc.W", new float[] {1, 0, -1, 2, 1, 0}, "fc.b", new float[] {0.5f, -1, 0}),
                new float[] {1, 2, 3});
        assertArrayEquals(new float[] {5.5f, 1, -1}, output(r), EPS);
        assertArrayEquals(new float[] {1, 2, 3, 2, 4, 6}, r.grad("fc.W", 1), EPS);
        assertArrayEquals(new float[] {1, 2, 3}, r.grad("fc.b", 1), EPS);
        assertArrayEquals(new float[] {-2, 4}, r.grad("x", 1), EPS);
    }

    @Test
    @DisplayName("dense + relu fused: relu(5.5, 1, -1) = (5.5, 1, 0); the masked gradient (1, 2, 0) gives dx = (1, 4)")
    void denseRelu() {
        Graph g = dense(Activation.RELU);
        EngineRun r = seeded(g, values(g, "x", new float[] {1, 2}, "fc.W", new float[] {1, 0, -1, 2, 1, 0}, "fc.b", new float[] {0.5f, -1, 0}),
                new float[] {1, 2, 3});
        assertArrayEquals(new float[] {5.5f, 1, 0}, output(r), EPS);
        assertArrayEquals(new float[] {1, 2, 0, 2, 4, 0}, r.grad("fc.W", 1), EPS);
        assertArrayEquals(new float[] {1, 2, 0}, r.grad("fc.b", 1), EPS);
        assertArrayEquals(new float[] {1, 4}, r.grad("x", 1), EPS);
    }

    @Test
    @DisplayName("add: (1, 2) + (3, 4) = (4, 6), each side gets c = (5, 7); add(a, a) gives a twice c = (10, 14)")
    void add() {
        GraphBuilder b = Graph.builder();
        b.mse(b.add(b.input("a", 1, 2, true), b.input("b", 1, 2, true)));
        Graph g = b.build();
        EngineRun r = seeded(g, values(g, "a", new float[] {1, 2}, "b", new float[] {3, 4}), new float[] {5, 7});
        assertArrayEquals(new float[] {4, 6}, output(r), EPS);
        assertArrayEquals(new float[] {5, 7}, r.grad("a", 1), EPS);
        assertArrayEquals(new float[] {5, 7}, r.grad("b", 1), EPS);
        GraphBuilder b2 = Graph.builder();
        Node a = b2.input("a", 1, 2, true);
        b2.mse(b2.add(a, a));
        Graph g2 = b2.build();
        assertArrayEquals(new float[] {10, 14}, seeded(g2, values(g2, "a", new float[] {1, 2}), new float[] {5, 7}).grad("a", 1), EPS);
    }

    @Test
    @DisplayName("mul: (2, 3) * (4, 5) = (8, 15); with c = (1, 2): da = c b = (4, 10), db = c a = (2, 6); mul(a, a) gives 2 c a = (4, 12)")
    void mul() {
        GraphBuilder b = Graph.builder();
        b.mse(b.mul(b.input("a", 1, 2, true), b.input("b", 1, 2, true)));
        Graph g = b.build();
        EngineRun r = seeded(g, values(g, "a", new float[] {2, 3}, "b", new float[] {4, 5}), new float[] {1, 2});
        assertArrayEquals(new float[] {8, 15}, output(r), EPS);
        assertArrayEquals(new float[] {4, 10}, r.grad("a", 1), EPS);
        assertArrayEquals(new float[] {2, 6}, r.grad("b", 1), EPS);
        GraphBuilder b2 = Graph.builder();
        Node a = b2.input("a", 1, 2, true);
        b2.mse(b2.mul(a, a));
        Graph g2 = b2.build();
        assertArrayEquals(new float[] {4, 12}, seeded(g2, values(g2, "a", new float[] {2, 3}), new float[] {1, 2}).grad("a", 1), EPS);
    }

    static EngineRun loss(Graph g, Map<String, float[]> v, int rows) {
        EngineRun run = new EngineRun(g);
        double l = run.run(v, rows);
        run.lastLoss = l;
        return run;
    }

    @Test
    @DisplayName("mse((1, 2), (0, 4)) = 2.5 with dp = (1, -2)")
    void mse() {
        GraphBuilder b = Graph.builder();
        Node p = b.input("p", 1, 2, true);
        Node t = b.targets("t", 1, 2);
        b.mse(p, t);
        EngineRun r = loss(b.build(), Map.of("p", new float[] {1, 2}, "t", new float[] {0, 4}), 1);
        assertEquals(2.5, r.lastLoss, 1e-6);
        assertArrayEquals(new float[] {1, -2}, r.grad("p", 1), EPS);
    }

    @Test
    @DisplayName("bce-with-logits((0, 0), (1, 0)) = ln 2 = 0.6931472 with dz = (-0.25, 0.25)")
    void bceWithLogits() {
        GraphBuilder b = Graph.builder();
        Node z = b.input("z", 1, 2, true);
        b.binaryCrossEntropyWithLogits(z, b.targets("t", 1, 2));
        EngineRun r = loss(b.build(), Map.of("z", new float[] {0, 0}, "t", new float[] {1, 0}), 1);
        assertEquals(0.6931472, r.lastLoss, 1e-6);
        assertArrayEquals(new float[] {-0.25f, 0.25f}, r.grad("z", 1), EPS);
    }

    @Test
    @DisplayName("softmax cross-entropy of ((0, 0), (ln 3, 0)) with labels (0, 1) = 1.5 ln 2 = 1.0397208; dz = ((-0.25, 0.25), (0.375, -0.375))")
    void softmaxCrossEntropy() {
        GraphBuilder b = Graph.builder();
        Node z = b.input("z", 2, 2, true);
        b.softmaxCrossEntropy(z, b.labels("y", 2));
        EngineRun r = loss(b.build(), Map.of("z", new float[] {0, 0, (float) Math.log(3), 0}, "y", new float[] {0, 1}), 2);
        assertEquals(1.0397208, r.lastLoss, 1e-6);
        assertArrayEquals(new float[] {-0.25f, 0.25f, 0.375f, -0.375f}, r.grad("z", 2), EPS);
    }

    static float[] step(Optimizer opt, float p, float g, float s1, float s2, long t) {
        GraphBuilder b2 = Graph.builder();
        b2.mse(b2.dense("w", b2.input("x", 1, 1), 1));
        Trainer tr = new Trainer(b2.build(), opt, 1);
        // parameters: w.W then w.b; only w.W is checked
        tr.params()[0] = p;
        tr.grads()[0] = g;
        tr.optimizerState()[0][0] = s1;
        tr.optimizerState()[1][0] = s2;
        tr.setUpdates(t - 1);
        tr.update();
        return new float[] {tr.params()[0], tr.optimizerState()[0][0], tr.optimizerState()[1][0]};
    }

    @Test
    @DisplayName("optimizers by hand: SGD p=1, g=0.5, lr=0.1 -> 0.95; momentum 0.9 with buf 0.2 -> buf 0.68, p 0.932; Nesterov -> 0.8888; Adam t=1 -> 0.9; AdamW wd 0.01 -> 0.899")
    void optimizersByHand() {
        assertEquals(0.95f, step(new Optimizer.Sgd(0.1f), 1, 0.5f, 0, 0, 1)[0], EPS);
        float[] m = step(new Optimizer.Sgd(0.1f, 0.9f, false, 0f), 1, 0.5f, 0.2f, 0, 1);
        assertEquals(0.932f, m[0], EPS);
        assertEquals(0.68f, m[1], EPS);
        assertEquals(0.8888f, step(new Optimizer.Sgd(0.1f, 0.9f, true, 0f), 1, 0.5f, 0.2f, 0, 1)[0], EPS);
        float[] a = step(new Optimizer.Adam(0.1f), 1, 0.5f, 0, 0, 1);
        assertEquals(0.9f, a[0], EPS);
        assertEquals(0.05f, a[1], EPS);
        assertEquals(0.00025f, a[2], 1e-8f); // (1 - 0.999f) is 0.00099998713 in float
        assertEquals(0.899f, step(new Optimizer.AdamW(0.1f, 0.9f, 0.999f, 1e-8f, 0.01f), 1, 0.5f, 0, 0, 1)[0], EPS);
    }
}
