package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GradientCheckTest {

    static float[] uniform(int n, double scale, SplittableRandom r) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((2 * r.nextDouble() - 1) * scale);
        return a;
    }

    /** A 5-17-16-3 classifier with smooth activations (no kinks for h to straddle). */
    static Trainer classifier() {
        GraphBuilder b = Graph.builder();
        Node h = b.tanh(b.dense("fc1", b.input("x", 8, 5), 17));
        h = b.gelu(b.dense("fc2", h, 16));
        b.softmaxCrossEntropy(b.dense("out", h, 3));
        return new Trainer(b.build(), new Optimizer.Sgd(0.1f), 7);
    }

    @Test
    @DisplayName("a correct model passes: every parameter is reported within tolerance")
    void classifierPasses() {
        Trainer t = classifier();
        SplittableRandom r = new SplittableRandom(3);
        float[] x = uniform(8 * 5, 1, r);
        int[] y = {0, 1, 2, 0, 1, 2, 1, 0};
        GradientCheck.Report report = GradientCheck.check(t, x, y, 8);
        assertTrue(report.passed(), report::toString);
        assertEquals(6, report.tensors().size());
        assertEquals(85, report.tensor("fc1.W").shape().size());
        assertEquals(64, report.tensor("fc1.W").checked(), "large tensors are sampled to maxElements");
        assertEquals(17, report.tensor("fc1.b").checked());
        assertTrue(report.tensor("out.W").maxRelError() < 1e-2, report::toString);
        assertTrue(report.toString().startsWith("gradient check: passed"), report::toString);
        assertTrue(report.toString().contains("fc2.W"), report::toString);
    }

    @Test
    @DisplayName("a wrong gradient is caught and its element named")
    void wrongGradientFails() {
        Trainer t = classifier();
        SplittableRandom r = new SplittableRandom(4);
        float[] x = uniform(8 * 5, 1, r);
        int[] y = {2, 1, 0, 0, 1, 2, 1, 0};
        int outB = t.plan().param("out.b").offset();
        GradientCheck.Report report = GradientCheck.run(t, x, 8, GradientCheck.Options.defaults(),
                in -> t.gradients(in, y, 8), in -> t.loss(in, y, 8), g -> g[outB + 1] *= 2); // a factor-2 bug in one bias element
        assertFalse(report.passed());
        GradientCheck.TensorReport ob = report.tensor("out.b");
        assertFalse(ob.passed(), report::toString);
        assertEquals(1, ob.failed());
        assertEquals(1, ob.worstIndex());
        assertEquals("[0, 1]", ob.worstElement());
        assertEquals(2.0, ob.analytic() / ob.numeric(), 0.05, report::toString);
        assertTrue(report.tensor("out.W").passed(), report::toString);
        assertTrue(report.toString().contains("FAILED"), report::toString);
    }

    @Test
    @DisplayName("by hand: L = (x w + b - t)^2 with x = 2, w = 0.5, b = 0, t = 0 has dL/dw = 2 (x w - t) x = 4, dL/db = 2, dL/dx = 2 (x w - t) w = 1")
    void handWorkedRegression() {
        GraphBuilder b = Graph.builder();
        b.mse(b.dense("fc", b.input("x", 1, 1, true), 1));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 1);
        t.setParam("fc.W", new float[] {0.5f});
        t.setParam("fc.b", new float[] {0f});
        GradientCheck.Report report = GradientCheck.check(t, new float[] {2}, new float[] {0}, 1);
        assertTrue(report.passed(), report::toString);
        assertEquals(1.0, report.loss(), 1e-6);
        assertEquals(4.0, report.tensor("fc.W").analytic(), 1e-6);
        assertEquals(4.0, report.tensor("fc.W").numeric(), 1e-3);
        assertEquals(2.0, report.tensor("fc.b").analytic(), 1e-6);
        assertEquals(2.0, report.tensor("fc.b").numeric(), 1e-3);
        assertEquals(1.0, report.tensor("x").analytic(), 1e-6, "the input built with requiresGrad is checked too");
        assertEquals(1.0, report.tensor("x").numeric(), 1e-3);
    }

    @Test
    @DisplayName("the check restores every parameter bitwise and leaves the caller's input alone")
    void leavesParametersUnchanged() {
        Trainer t = classifier();
        float[] before = t.params().clone();
        float[] x = uniform(8 * 5, 1, new SplittableRandom(5));
        float[] xCopy = x.clone();
        GradientCheck.check(t, x, new int[] {0, 1, 2, 0, 1, 2, 1, 0}, 8, GradientCheck.Options.defaults().withMaxElements(0));
        assertArrayEquals(before, t.params());
        assertArrayEquals(xCopy, x);
        assertEquals(0, t.updates());
    }

    @Test
    @DisplayName("regression with sigmoid and mse on a partial batch passes, with every element probed")
    void regressionPartialBatch() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 16, 3, true);
        b.mse(b.dense("head", b.sigmoid(b.dense("fc", x, 17)), 2));
        Trainer t = new Trainer(b.build(), new Optimizer.Adam(1e-3f), 11);
        SplittableRandom r = new SplittableRandom(6);
        GradientCheck.Report report = GradientCheck.check(t, uniform(16 * 3, 1, r), uniform(16 * 2, 1, r), 13,
                GradientCheck.Options.defaults().withMaxElements(0));
        assertTrue(report.passed(), report::toString);
        assertEquals(13 * 3, report.tensor("x").checked());
        assertEquals(51, report.tensor("fc.W").checked());
    }

    @Test
    @DisplayName("bad options and bad batches are rejected with a message")
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> GradientCheck.Options.defaults().withStep(0f));
        assertThrows(IllegalArgumentException.class, () -> GradientCheck.Options.defaults().withTolerance(-1, 0));
        Trainer t = classifier();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradientCheck.check(t, new float[40], new int[8], 9));
        assertTrue(e.getMessage().contains("rows"), e.getMessage());
    }
}
