package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import org.junit.jupiter.api.Test;

/** End-to-end learning: XOR and the digits dataset. */
class LearningTest {
    @Test
    void xorTrainsWithA241TanhNetwork() {
        GraphBuilder b = Graph.builder().defaultInit(Init.GLOROT_UNIFORM);
        Node x = b.input("x", 4, 2);
        Node h = b.tanh(b.dense("hidden", x, 4));
        b.mse(b.dense("out", h, 1));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f, 0.9f, false, 0f), 3);
        float[] xs = {0, 0, 0, 1, 1, 0, 1, 1};
        float[] ys = {0, 1, 1, 0};
        double loss = Double.NaN;
        for (int i = 0; i < 2000; i++) loss = t.step(xs, ys, 4);
        assertTrue(loss < 0.01, "XOR loss after 2000 steps: " + loss);
        float[] out = new float[4];
        t.forward(xs, 4, out);
        for (int i = 0; i < 4; i++) assertTrue(Math.abs(out[i] - ys[i]) < 0.2, "XOR row " + i + ": " + out[i]);
    }

    @Test
    void digitsMlpReaches95PercentOnAHeldOutSplit() {
        Dataset.Split split = Digits.load().split(0.0, 0.2, 11);
        int batch = 32;
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, 64);
        Node h = b.relu(b.dense("fc1", x, 64));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Adam(0.005f), 11);
        Dataset train = split.train();
        float[] xb = new float[batch * 64];
        int[] yb = new int[batch];
        for (int epoch = 0; epoch < 25; epoch++) {
            Dataset d = train.shuffled(epoch);
            for (int from = 0; from < d.rows(); from += batch) {
                int rows = Math.min(batch, d.rows() - from); // the last partial batch is trained on
                System.arraycopy(d.x(), from * 64, xb, 0, rows * 64);
                System.arraycopy(d.y(), from, yb, 0, rows);
                t.step(xb, yb, rows);
            }
        }
        Evaluation.Result r = new Evaluation(t).run(split.test());
        assertTrue(r.accuracy() >= 0.95, "digits test accuracy " + r.accuracy());
    }

    @Test
    void aSeedMakesTrainingBitwiseReproducible() {
        float[][] finals = new float[2][];
        for (int run = 0; run < 2; run++) {
            GraphBuilder b = Graph.builder().defaultInit(Init.HE_NORMAL);
            Node x = b.input("x", 16, 64);
            Node h = b.gelu(b.dense("fc1", x, 33));
            b.softmaxCrossEntropy(b.dense("out", h, 10));
            Trainer t = new Trainer(b.build(), new Optimizer.AdamW(0.01f), 99);
            Dataset d = Digits.load();
            float[] xb = new float[16 * 64];
            int[] yb = new int[16];
            for (int s = 0; s < 30; s++) {
                System.arraycopy(d.x(), s * 16 * 64, xb, 0, xb.length);
                System.arraycopy(d.y(), s * 16, yb, 0, 16);
                t.step(xb, yb);
            }
            finals[run] = t.params().clone();
        }
        assertArrayEquals(finals[0], finals[1]);
    }
}
