package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DivergenceTest {
    /** p = x W + b on one row with x = 1, target 0: L = s^2 with s = W + b; SGD makes s' = s (1 - 4 lr). */
    static Trainer line(float lr) {
        GraphBuilder b = Graph.builder();
        b.mse(b.dense("fc", b.input("x", 1, 1), 1));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(lr), 1);
        t.setParam("fc.W", new float[] {1f});
        t.setParam("fc.b", new float[] {0f});
        return t;
    }

    static final float[] ONE = {1f}, ZERO = {0f};

    @Test
    void aRisingLossIsDetectedAtTheStepWorkedOutByHand() {
        // lr 0.75: s' = -2 s, so the losses are 1, 4, 16, 64. Window 3, factor 10, reference min(first loss 1,
        // lowest 3-step mean): step 2's mean 7 is below 10 x 1; step 3's mean 28 is above: divergence at step 3,
        // before its update.
        Trainer t = line(0.75f);
        t.divergence().setRise(3, 10);
        for (int i = 0; i < 3; i++) t.step(ONE, ZERO, 1);
        DivergenceException e = assertThrows(DivergenceException.class, () -> t.step(ONE, ZERO, 1));
        assertEquals(3, e.step());
        assertArrayEquals(new double[] {1, 4, 16, 64}, e.history(), 1e-9);
        assertEquals(0.75f, e.learningRate());
        assertEquals(0.075f, e.suggestedLearningRate());
        assertTrue(e.getMessage().startsWith("training diverged at step 3: the mean loss of the last 3 steps, 28.00, is 28.0x "
                + "the lowest level seen, 1.000"), e.getMessage());
        assertTrue(e.getMessage().contains("loss history [1.000, 4.000, 16.00, 64.00]"), e.getMessage());
        assertTrue(e.getMessage().contains("learning rate 0.750") && e.getMessage().contains("Try a lower learning rate, e.g. 0.0750"),
                e.getMessage());
        // the diverged step updated nothing: s is still (-2)^3
        assertEquals(-8f, t.param("fc.W")[0] + t.param("fc.b")[0], 0f);
        assertEquals(3, t.steps());
    }

    @Test
    void aNonFiniteLossStopsAtOnceWithTheParametersUntouched() {
        Trainer t = line(0.01f);
        t.setParam("fc.W", new float[] {3e38f});
        t.setParam("fc.b", new float[] {3e38f}); // x W + b overflows to infinity
        DivergenceException e = assertThrows(DivergenceException.class, () -> t.step(ONE, ZERO, 1));
        assertEquals(0, e.step());
        assertTrue(e.getMessage().contains("the loss is Infinity") || e.getMessage().contains("the loss is NaN"), e.getMessage());
        assertEquals(3e38f, t.param("fc.W")[0]);
        assertEquals(0, t.updates());
    }

    /**
     * A caller may catch the exception, repair the state (or lower the rate) and go on: the rejected step's loss
     * must not stay in the guard's window. An infinite one flagged the next healthy steps as diverged; a NaN one
     * made the lowest window mean NaN, which switched rise detection off for good.
     */
    @Test
    void aCaughtDivergenceLeavesTheGuardAsBeforeTheRejectedStep() {
        // lr 1e-4: s stays ~1, so every healthy loss is ~1
        Trainer inf = line(1e-4f);
        inf.divergence().setRise(3, 10);
        for (int i = 0; i < 2; i++) inf.step(ONE, ZERO, 1);
        float[] w = inf.param("fc.W"), b = inf.param("fc.b");
        inf.setParam("fc.W", new float[] {3e38f});
        inf.setParam("fc.b", new float[] {3e38f});
        assertThrows(DivergenceException.class, () -> inf.step(ONE, ZERO, 1));
        inf.setParam("fc.W", w);
        inf.setParam("fc.b", b);
        for (int i = 0; i < 5; i++) assertEquals(1, inf.step(ONE, ZERO, 1), 0.01, "healthy step " + i + " after the caught divergence");

        Trainer nan = line(1e-4f);
        nan.divergence().setRise(3, 10);
        for (int i = 0; i < 2; i++) nan.step(ONE, ZERO, 1);
        w = nan.param("fc.W");
        nan.params()[nan.plan().param("fc.W").offset()] = Float.NaN; // setParam refuses NaN: through the live array
        assertThrows(DivergenceException.class, () -> nan.step(ONE, ZERO, 1));
        nan.setParam("fc.W", w);
        for (int i = 0; i < 5; i++) nan.step(ONE, ZERO, 1);
        nan.setParam("fc.W", new float[] {100f}); // loss ~1e4: the 3-step mean ~3,300 is far above 10 x 1
        DivergenceException e = assertThrows(DivergenceException.class, () -> nan.step(ONE, ZERO, 1));
        assertTrue(e.getMessage().contains("the mean loss of the last 3 steps"), e.getMessage());
        assertEquals(7, e.step());
    }

    @Test
    void offModeLetsTheLossRun() {
        Trainer t = line(1f);
        t.divergence().setMode(DivergenceGuard.Mode.OFF).setRise(3, 10);
        double last = 0;
        for (int i = 0; i < 8; i++) last = t.step(ONE, ZERO, 1);
        assertEquals(Math.pow(9, 7), last, 1e-3 * Math.pow(9, 7));
    }

    @Test
    void backoffRestoresTheLastGoodStateHalvesTheRateAndFinishes() {
        // lr 0.75: s' = -2 s, losses 1, 4, 16, 64: divergence at step 3 (see above).
        // Snapshots every 2 steps, of good states only (loss <= sqrt(10) x the first): step 0, not step 2 (loss 16).
        // Restored to s = 1 with lr 0.375: s' = -s / 2, the loss falls by 4 each step.
        Trainer t = line(0.75f);
        List<String> said = new ArrayList<>();
        t.divergence().setMode(DivergenceGuard.Mode.BACKOFF).setRise(3, 10).setBackoff(2, 3).setMessages(said::add);
        double[] losses = new double[30];
        for (int i = 0; i < losses.length; i++) losses[i] = t.step(ONE, ZERO, 1);
        assertEquals(1, t.divergence().backoffs());
        assertEquals(0.375f, t.learningRate());
        assertEquals(1, said.size());
        String m = said.get(0);
        assertTrue(m.startsWith("training diverged at step 3"), m);
        assertTrue(m.contains("Restored the parameters and optimizer state of step 0 and halved the learning rate 0.750 -> 0.375 (backoff 1 of 3)"), m);
        // step 3 ran again from the state of step 0: loss 1, then a quarter each step
        assertEquals(16, losses[2], 1e-9);
        assertEquals(1, losses[3], 1e-9);
        assertEquals(0.25, losses[4], 1e-9);
        assertTrue(Double.isFinite(losses[29]) && losses[29] < 1e-12, "final loss " + losses[29]);
        assertEquals(30, t.steps());
    }

    static Graph mlp() {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", TelemetryTest.ROWS, TelemetryTest.IN);
        Node h = b.tanh(b.dense("fc1", x, 32));
        h = b.tanh(b.dense("fc2", h, 32));
        b.softmaxCrossEntropy(b.dense("out", h, 3));
        return b.build();
    }

    @Test
    void aTooHighRateOnAFixedSeedIsDetectedWhereTheLossHistorySaysAndBackoffRecovers() {
        float lr = 20f;
        float[] x = TelemetryTest.data(TelemetryTest.ROWS * TelemetryTest.IN, 21);
        int[] y = TelemetryTest.labels(TelemetryTest.ROWS);
        // the unguarded run: its losses, and where the rule fires (non-finite, or a 10-step mean > 10 x min(first loss,
        // lowest 10-step mean) and > the first loss)
        Trainer free = new Trainer(mlp(), new Optimizer.Sgd(lr, 0.9f, false, 0f), 8);
        free.divergence().setMode(DivergenceGuard.Mode.OFF);
        double[] loss = new double[60];
        for (int i = 0; i < loss.length; i++) loss[i] = free.step(x, y);
        int expected = -1;
        double best = Double.POSITIVE_INFINITY, first = loss[0];
        for (int i = 0; i < loss.length && expected < 0; i++) {
            if (!Double.isFinite(loss[i])) { expected = i; break; }
            if (i < 9) continue;
            double mean = 0;
            for (int k = i - 9; k <= i; k++) mean += loss[k];
            mean /= 10;
            if (mean > 10 * Math.min(first, best) && mean > first) expected = i;
            best = Math.min(best, mean);
        }
        assertTrue(expected > 0, "lr " + lr + " should diverge within 60 steps: " + java.util.Arrays.toString(loss));
        // the guarded run with the same seed stops there
        Trainer guarded = new Trainer(mlp(), new Optimizer.Sgd(lr, 0.9f, false, 0f), 8);
        DivergenceException e = assertThrows(DivergenceException.class, () -> {
            for (int i = 0; i < 60; i++) guarded.step(x, y);
        });
        assertEquals(expected, e.step(), e.getMessage());
        // backoff: halves until it trains, and the run ends with a finite loss below the first one
        Trainer backoff = new Trainer(mlp(), new Optimizer.Sgd(lr, 0.9f, false, 0f), 8);
        // a rise of 3x over 10 steps counts: at lr 1.25 this net otherwise settles on a plateau near 3x its first loss,
        // a failed run the default 10x rule does not call divergence
        backoff.divergence().setMode(DivergenceGuard.Mode.BACKOFF).setRise(10, 3).setBackoff(5, 8).setMessages(s -> { });
        double firstLoss = backoff.step(x, y), last = firstLoss;
        for (int i = 1; i < 300; i++) last = backoff.step(x, y);
        assertTrue(backoff.divergence().backoffs() >= 1);
        assertTrue(backoff.learningRate() < lr);
        assertTrue(Double.isFinite(last) && last < firstLoss, "first " + firstLoss + " last " + last + " backoffs " + backoff.divergence().backoffs() + " lr " + backoff.learningRate() + " threads " + backoff.threads());
    }
}
