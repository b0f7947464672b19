package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.kernel.Activations;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TelemetryTest {
    static final int ROWS = 17, IN = 5;

    /** x (17, 5) -> 16 sigmoid -> 15 relu -> 3 tanh -> 3 logits, softmax cross-entropy. */
    static Graph mlp(int rows) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", rows, IN);
        Node h = b.sigmoid(b.dense("s1", x, 16));
        h = b.relu(b.dense("r2", h, 15));
        h = b.tanh(b.dense("t3", h, 3));
        b.softmaxCrossEntropy(b.dense("out", h, 3));
        return b.build();
    }

    static float[] data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    static int[] labels(int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = i % 3;
        return y;
    }

    @Test
    void valuesEqualADirectRecomputationFromGradientsAndActivations() {
        for (Optimizer opt : List.of(new Optimizer.Sgd(0.1f, 0.9f, false, 1e-4f), new Optimizer.Adam(0.01f), new Optimizer.AdamW(0.01f))) {
            Trainer t = new Trainer(mlp(ROWS), opt, 3);
            t.telemetry().setInterval(1);
            // hand-made cases: 4 sigmoid units pinned at 1 (saturated), 5 relu units pinned below 0 (dead)
            float[] b1 = t.param("s1.b");
            for (int j = 0; j < 4; j++) b1[j] = 100f;
            t.setParam("s1.b", b1);
            float[] b2 = t.param("r2.b");
            for (int j = 0; j < 5; j++) b2[j] = -100f;
            t.setParam("r2.b", b2);
            float[] x = data(ROWS * IN, 11);
            int[] y = labels(ROWS);
            t.step(x, y); // one step so Adam's state is not zero
            int rows = 13; // a partial batch
            float[] before = t.params().clone();
            List<Long> sampled = new ArrayList<>();
            t.telemetry().setListener((tel, step) -> sampled.add(step));
            t.step(x, y, rows);
            assertEquals(List.of(1L), sampled);
            Telemetry tel = t.telemetry();
            assertEquals(List.of("s1", "r2", "t3", "out"), tel.layers());
            float[] after = t.params(), grads = t.grads();
            // the layers' outputs, recomputed from the parameters before the step
            double[][] acts = new double[4][];
            Activation[] kinds = {Activation.SIGMOID, Activation.RELU, Activation.TANH, Activation.IDENTITY};
            String[] names = {"s1", "r2", "t3", "out"};
            int[] width = {16, 15, 3, 3};
            double[] in = new double[rows * IN];
            for (int i = 0; i < in.length; i++) in[i] = x[i];
            int inCols = IN;
            for (int l = 0; l < 4; l++) {
                Slot w = t.plan().param(names[l] + ".W"), bb = t.plan().param(names[l] + ".b");
                double[] h = new double[rows * width[l]];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < width[l]; j++) {
                        double s = before[bb.offset() + j];
                        for (int k = 0; k < inCols; k++) s += in[i * inCols + k] * before[w.offset() + k * width[l] + j];
                        h[i * width[l] + j] = Activations.scalar(kinds[l], 0f, (float) s);
                    }
                }
                acts[l] = h;
                in = h;
                inCols = width[l];
            }
            for (int l = 0; l < 4; l++) {
                Slot w = t.plan().param(names[l] + ".W"), bb = t.plan().param(names[l] + ".b");
                double g2 = 0, p2 = 0, d2 = 0;
                for (Slot s : List.of(w, bb)) {
                    for (int i = s.offset(); i < s.offset() + s.size(); i++) {
                        g2 += (double) grads[i] * grads[i];
                        p2 += (double) before[i] * before[i];
                        double d = after[i] - before[i];
                        d2 += d * d;
                    }
                }
                String what = opt + " layer " + names[l];
                assertEquals(Math.sqrt(g2), tel.gradNorm(l), 1e-5 * Math.sqrt(g2), what);
                assertEquals(Math.sqrt(p2), tel.weightNorm(l), 1e-5 * Math.sqrt(p2), what);
                assertEquals(Math.sqrt(d2) / Math.sqrt(p2), tel.updateRatio(l), 1e-4 * Math.sqrt(d2) / Math.sqrt(p2), what);
                double[] h = acts[l];
                double mean = 0;
                for (double v : h) mean += v;
                mean /= h.length;
                assertEquals(mean, tel.activationMean(l), 1e-5, what);
                int n = h.length;
                switch (kinds[l]) {
                    case SIGMOID -> {
                        int sat = 0;
                        for (double v : h) if (v < 0.01 || v > 0.99) sat++;
                        assertEquals(sat / (double) n, tel.saturatedFraction(l), 1.0 / n + 1e-12, what);
                        assertTrue(tel.saturatedFraction(l) >= 4.0 / 16, what); // the pinned units
                        assertTrue(Double.isNaN(tel.deadFraction(l)));
                    }
                    case TANH -> {
                        int sat = 0;
                        for (double v : h) if (Math.abs(v) > 0.99) sat++;
                        assertEquals(sat / (double) n, tel.saturatedFraction(l), 1.0 / n + 1e-12, what);
                    }
                    case RELU -> {
                        int deadUnits = 0;
                        for (int j = 0; j < width[l]; j++) {
                            boolean alive = false;
                            for (int i = 0; i < rows; i++) alive |= h[i * width[l] + j] > 0;
                            if (!alive) deadUnits++;
                        }
                        assertEquals(deadUnits / 15.0, tel.deadFraction(l), 1e-12, what);
                        assertTrue(deadUnits >= 5, what); // the pinned units
                        assertTrue(Double.isNaN(tel.saturatedFraction(l)));
                    }
                    default -> {
                        assertTrue(Double.isNaN(tel.saturatedFraction(l)));
                        assertTrue(Double.isNaN(tel.deadFraction(l)));
                    }
                }
            }
        }
    }

    @Test
    void samplesEveryIntervalStepsStartingAtStepZero() {
        Trainer t = new Trainer(mlp(ROWS), new Optimizer.Sgd(0.05f), 1);
        assertEquals(Telemetry.DEFAULT_INTERVAL, t.telemetry().interval());
        t.telemetry().setInterval(4);
        List<Long> sampled = new ArrayList<>();
        t.telemetry().setListener((tel, step) -> sampled.add(step));
        float[] x = data(ROWS * IN, 2);
        int[] y = labels(ROWS);
        for (int i = 0; i < 10; i++) t.step(x, y);
        assertEquals(List.of(0L, 4L, 8L), sampled);
        assertEquals(3, t.telemetry().samples());
        assertEquals(8, t.telemetry().lastStep());
        t.telemetry().setInterval(0);
        for (int i = 0; i < 10; i++) t.step(x, y);
        assertEquals(3, sampled.size());
    }

    /**
     * A listener that throws on a sampled step: the update was applied, so the step counts (it did not: steps lagged
     * updates by one, and the next step was sampled again under the same number); the exception still reaches the caller.
     */
    @Test
    void aThrowingListenerStillCountsTheStepItsUpdateApplied() {
        Trainer t = new Trainer(mlp(ROWS), new Optimizer.Adam(0.01f), 3);
        Trainer quiet = new Trainer(mlp(ROWS), new Optimizer.Adam(0.01f), 3);
        t.telemetry().setInterval(2);
        quiet.telemetry().setInterval(2);
        List<Long> sampled = new ArrayList<>();
        t.telemetry().setListener((tel, step) -> {
            sampled.add(step);
            if (step == 2) throw new IllegalStateException("listener failed at step " + step);
        });
        float[] x = data(ROWS * IN, 4);
        int[] y = labels(ROWS);
        for (int i = 0; i < 2; i++) t.step(x, y);
        for (int i = 0; i < 3; i++) quiet.step(x, y);
        float[] before = t.params().clone();
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> t.step(x, y));
        assertEquals("listener failed at step 2", e.getMessage());
        assertEquals(3, t.updates());
        assertEquals(3, t.steps(), "the update of step 2 was applied: the step is counted");
        assertTrue(!java.util.Arrays.equals(before, t.params()), "the parameters were updated");
        assertArrayEquals(quiet.params(), t.params(), "the same state as a run whose listener did not throw");
        assertEquals(2, t.telemetry().lastStep());
        // training goes on, numbering steps as before: step 3 is not sampled, step 4 is
        for (int i = 0; i < 2; i++) {
            t.step(x, y);
            quiet.step(x, y);
        }
        assertEquals(List.of(0L, 2L, 4L), sampled);
        assertEquals(5, t.steps());
        assertArrayEquals(quiet.params(), t.params());
    }

    @Test
    void telemetryDoesNotChangeTraining() {
        // the observed update is the same arithmetic, tensor by tensor: parameters end bitwise equal
        for (Optimizer opt : List.of(new Optimizer.Sgd(0.05f, 0.9f, true, 1e-3f), new Optimizer.AdamW(0.01f))) {
            Trainer on = new Trainer(mlp(ROWS), opt, 5);
            Trainer off = new Trainer(mlp(ROWS), opt, 5);
            on.telemetry().setInterval(1);
            off.telemetry().setInterval(0);
            float[] x = data(ROWS * IN, 9);
            int[] y = labels(ROWS);
            for (int i = 0; i < 20; i++) assertEquals(off.step(x, y), on.step(x, y), 0.0);
            assertArrayEquals(off.params(), on.params());
            assertArrayEquals(off.optimizerState()[0], on.optimizerState()[0]);
        }
    }

    @Test
    void stepsAllocateNothingWithTelemetryOn() {
        // SGD with momentum at a modest rate: tens of thousands of steps on one batch stay stable (Adam at 0.01
        // eventually spikes above its starting loss there, which the divergence guard rightly stops)
        Trainer t = new Trainer(mlp(ROWS), new Optimizer.Sgd(0.01f, 0.9f, false, 1e-4f), 4);
        t.telemetry().setInterval(1);
        long[] listened = new long[1];
        t.telemetry().setListener((tel, step) -> listened[0] += tel.layerCount());
        float[] x = data(ROWS * IN, 3);
        int[] y = labels(ROWS);
        StringBuilder log = new StringBuilder();
        long bytes = Allocations.afterWarmUp(150, () -> {
            for (int i = 0; i < 500; i++) t.step(x, y, 1 + i % ROWS);
        }, log);
        assertEquals(0, bytes, "bytes allocated by 500 steps with telemetry sampled every step, after warm-up: " + log);
        assertTrue(listened[0] > 0);
        // backoff mode keeps snapshots in buffers allocated when chosen: still nothing per step
        t.divergence().setMode(DivergenceGuard.Mode.BACKOFF).setBackoff(3, 5);
        StringBuilder log2 = new StringBuilder();
        long withBackoff = Allocations.afterWarmUp(150, () -> {
            for (int i = 0; i < 500; i++) t.step(x, y);
        }, log2);
        assertEquals(0, withBackoff, "bytes allocated by 500 steps with telemetry and backoff snapshots, after warm-up: " + log2);
    }

    /** 5 layers of one sigmoid unit: dense(1) + sigmoid x 5, mse. */
    static Graph sigmoidChain(int rows, Activation act, Init init) {
        GraphBuilder b = Graph.builder().defaultInit(init);
        Node h = b.input("x", rows, 1);
        for (int l = 1; l <= 5; l++) h = b.activation(act, b.dense("l" + l, h, 1));
        b.mse(h);
        return b.build();
    }

    @Test
    void warnsOnceWhenEarlyLayersGradientsVanish() {
        Trainer t = new Trainer(sigmoidChain(8, Activation.SIGMOID, Init.GLOROT_UNIFORM), new Optimizer.Sgd(0.1f), 1);
        // make the chain saturate: large weights push every sigmoid to its flat ends
        for (int l = 1; l <= 5; l++) t.setParam("l" + l + ".W", new float[] {8f});
        List<String> warnings = new ArrayList<>();
        t.telemetry().setInterval(2).setVanishing(1e-3, 20).setWarnings(warnings::add);
        float[] x = data(8, 4), y = new float[8];
        for (int i = 0; i < 8; i++) y[i] = x[i] > 0 ? 0.9f : 0.1f;
        for (int i = 0; i < 18; i++) t.step(x, y, 8);
        assertNull(t.telemetry().vanishingWarning(), "not before the window is full");
        for (int i = 0; i < 40; i++) t.step(x, y, 8);
        assertEquals(1, warnings.size(), warnings.toString());
        String w = warnings.get(0);
        assertNotNull(t.telemetry().vanishingWarning());
        assertTrue(w.contains("layer 'l1'") && w.contains("of the last layer's ('l5'"), w);
        assertTrue(w.startsWith("vanishing gradients at step 18"), w); // samples 0, 2, ..., 18: 20 steps below
        double ratio = t.telemetry().gradNorm(0) / t.telemetry().gradNorm(4);
        assertTrue(ratio < 1e-3, "l1/l5 " + ratio);
    }

    @Test
    void noVanishingWarningForAHealthyNetwork() {
        Trainer t = new Trainer(mlp(ROWS), new Optimizer.Sgd(0.05f), 1);
        List<String> warnings = new ArrayList<>();
        t.telemetry().setInterval(1).setVanishing(1e-3, 10).setWarnings(warnings::add);
        float[] x = data(ROWS * IN, 2);
        int[] y = labels(ROWS);
        for (int i = 0; i < 50; i++) t.step(x, y);
        assertEquals(List.of(), warnings);
    }
}
