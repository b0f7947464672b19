package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.compile.Step;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.runtime.StepTimer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link Trainer#profile} times each plan step of the training steps it runs. These tests check what it counts and
 * that profiling changes no bit, never how fast anything is (timings belong in JMH).
 */
class StepProfileTest {
    private static final int BATCH = 32, FEATURES = 64, HIDDEN = 128, CLASSES = 10;

    // x -> relu(fc1) -> relu(fc2) -> 10 classes, SGD: on 2 threads fc2's dW and db run beside its dx (Plan.lane)
    private static Trainer mlp(int threads) {
        GraphBuilder b = Graph.builder();
        Node h = b.relu(b.dense("fc1", b.input("x", BATCH, FEATURES), HIDDEN));
        h = b.relu(b.dense("fc2", h, HIDDEN));
        b.softmaxCrossEntropy(b.dense("out", h, CLASSES));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 11);
        t.setThreads(threads);
        return t;
    }

    private static final float[] X = new float[BATCH * FEATURES];
    private static final int[] Y = new int[BATCH];

    static {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < X.length; i++) X[i] = (float) r.nextDouble();
        for (int i = 0; i < Y.length; i++) Y[i] = r.nextInt(CLASSES);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void profiledStepsGiveTheBitsOfPlainSteps(int threads) {
        Trainer plain = mlp(threads), profiled = mlp(threads);
        for (int i = 0; i < 5; i++) plain.step(X, Y);
        profiled.profile(X, Y, 5);
        assertArrayEquals(plain.params(), profiled.params());
        assertArrayEquals(plain.grads(), profiled.grads());
        assertEquals(plain.steps(), profiled.steps());
        assertEquals(plain.updates(), profiled.updates());
    }

    @Test
    void everyPlanStepIsCountedOnceATrainingStepOnOneThread() {
        Trainer t = mlp(1);
        StepProfile p = t.profile(X, Y, 7);
        assertEquals(7, p.trainingSteps());
        assertEquals(7L * BATCH, p.rows());
        assertEquals(1, p.threads());
        List<Step> steps = t.plan().steps();
        assertEquals(steps.size(), p.planSteps());
        for (int s = 0; s < steps.size(); s++) {
            assertEquals(7, p.calls(s), "calls of step " + s + " (" + steps.get(s).label() + ")");
            assertEquals(0, p.inRuns(s) + p.runCalls(s), "step " + s + " ran in no side-by-side run on one thread");
            assertTrue(p.minMicros(s) <= p.micros(s), "step " + s);
        }
        // the plan steps and the update are timed inside the training step on the same clock: what they leave is >= 0
        assertTrue(p.restMicros() >= 0, "rest " + p.restMicros());
        assertTrue(p.minStepMicros() <= p.stepMicros() && p.minUpdateMicros() <= p.updateMicros());
        // samples a second and GFLOPS as their definitions: rows over time; a step's flops at the rows run over its time
        assertEquals(p.rows() / (p.stepMicros() * p.trainingSteps() / 1e6), p.samplesPerSecond(), 1e-6 * p.samplesPerSecond());
        int fc1 = 0;
        double flop = steps.get(fc1).flops() * 7.0;
        assertEquals(flop / (p.micros(fc1) * p.calls(fc1) * 1e3), p.gflops(fc1), 1e-9 * p.gflops(fc1));
    }

    @Test
    void stepsSideBySideAreOneRunTimedOnItsFirstStep() {
        Trainer t = mlp(2);
        int first = 7, end = t.plan().runEnd(first);
        assertTrue(end > first + 1 && t.plan().sideBySide(first, BATCH), "fc2's backward runs side by side:\n" + t.plan().describe());
        StepProfile p = t.profile(X, Y, 4);
        assertEquals(4, p.runCalls(first));
        assertEquals(end, p.runEnd(first));
        assertEquals(0, p.calls(first));
        for (int s = first + 1; s < end; s++) {
            assertEquals(0, p.calls(s) + p.runCalls(s), "step " + s + " is timed with step " + first);
            assertEquals(4, p.inRuns(s));
        }
        // the run's GFLOPS count the flops of all its steps
        double flop = 0;
        for (int s = first; s < end; s++) flop += t.plan().steps().get(s).flops() * 4.0;
        assertEquals(flop / (p.runMicros(first) * 4 * 1e3), p.runGflops(first), 1e-9 * p.runGflops(first));
        String text = p.describe();
        assertTrue(text.contains(first + "-" + (end - 1)) && text.contains("side by side"), text);
        assertTrue(text.contains("dfc2.W, dfc2.b, drelu4"), text);
        assertTrue(text.startsWith("profile: 4 training steps on 2 threads, 128 samples: "), text);
    }

    @Test
    void describeHasARowPerStepTheUpdateAndTheRest() {
        Trainer t = mlp(1);
        String text = t.profile(X, Y, 3).describe();
        String[] lines = text.split("\n");
        int steps = t.plan().steps().size();
        // the headline, the column names, a row per step, the update and the rest
        assertEquals(2 + steps + 2, lines.length, text);
        assertTrue(lines[0].startsWith("profile: 3 training steps on 1 thread, 96 samples: "), lines[0]);
        assertTrue(lines[1].startsWith("  #       pass kernel ") && lines[1].endsWith("GFLOPS   share"), lines[1]);
        for (int s = 0; s < steps; s++) {
            Step st = t.plan().steps().get(s);
            String row = lines[2 + s];
            assertTrue(row.startsWith(String.format("  %-7d %-4s %-26s %s", s, st.backward() ? "bwd" : "fwd", st.kernel(), st.label())), row);
            assertTrue(row.contains("      3 "), "three calls: " + row);
        }
        assertTrue(lines[2 + steps].contains("update") && lines[2 + steps].contains("sgd, 1 part"), lines[2 + steps]);
        assertTrue(lines[3 + steps].contains("rest") && lines[3 + steps].contains("input, loss check, telemetry"), lines[3 + steps]);
    }

    @Test
    void onlyTrainingStepsAreTimedNotValidationBetweenThem() {
        Trainer t = mlp(1);
        t.startProfile();
        assertTrue(t.profiling());
        t.step(X, Y);
        t.loss(X, Y, BATCH);
        t.gradients(X, Y, BATCH);
        t.forward(X, new float[BATCH * CLASSES]);
        t.step(X, Y, 20); // a partial batch: 20 rows
        StepProfile p = t.stopProfile();
        assertFalse(t.profiling());
        assertEquals(2, p.trainingSteps());
        assertEquals(BATCH + 20, p.rows());
        for (int s = 0; s < t.plan().steps().size(); s++) assertEquals(2, p.calls(s), "step " + s);
        // a step's GFLOPS count the rows it ran: a full batch and 20 rows
        double flop = t.plan().steps().get(0).flops() * (BATCH + 20.0) / BATCH;
        assertEquals(flop / (p.micros(0) * 2 * 1e3), p.gflops(0), 1e-9 * p.gflops(0));
        // a snapshot: steps after it change nothing
        t.step(X, Y);
        assertEquals(2, p.trainingSteps());
        assertEquals(2, p.calls(0));
    }

    @Test
    void aPartialBatchRunsAloneWhatAFullOneRunsSideBySideAndTheRowsSayWhich() {
        // 2 rows are too few for the lanes (Plan.sideBySide): steps 7-9 run one after another there
        Trainer t = mlp(2);
        int first = 7, end = t.plan().runEnd(first);
        assertFalse(t.plan().sideBySide(first, 2));
        t.startProfile();
        for (int i = 0; i < 3; i++) t.step(X, Y);
        for (int i = 0; i < 2; i++) t.step(X, Y, 2);
        StepProfile p = t.stopProfile();
        assertEquals(3, p.runCalls(first));
        for (int s = first; s < end; s++) assertEquals(2, p.calls(s), "step " + s + " alone");
        for (int s = first + 1; s < end; s++) assertEquals(3, p.inRuns(s), "step " + s + " in runs");
        // the lone calls' GFLOPS count step 7's flops at 2 rows a call, not the run's
        double flop = t.plan().steps().get(first).flops() * 4.0 / BATCH;
        assertEquals(flop / (p.micros(first) * 2 * 1e3), p.gflops(first), 1e-9 * p.gflops(first));
        String text = p.describe();
        for (int s = first; s < end; s++) {
            assertTrue(text.contains(String.format("%n  %-7d ", s)), "a row for step " + s + " alone:\n" + text);
        }
        assertTrue(text.contains(String.format("%n  %-7s bwd  side by side ", first + "-" + (end - 1))), text);
    }

    @Test
    void aBatchTheGuardRunsAgainCountsOnceAndItsFirstForwardGoesToTheRest() {
        // DivergenceTest's line: lr 0.75 diverges at step 3; the guard backs off to step 0's state and runs it again
        Trainer t = DivergenceTest.line(0.75f);
        t.divergence().setMode(DivergenceGuard.Mode.BACKOFF).setRise(3, 10).setBackoff(2, 3).setMessages(m -> { });
        StepProfile p = t.profile(DivergenceTest.ONE, DivergenceTest.ZERO, 30);
        assertEquals(1, t.divergence().backoffs());
        assertEquals(30, p.trainingSteps());
        assertEquals(31, p.calls(0), "the forward steps ran 31 times, once again for the batch run twice");
        assertEquals(30, p.calls(t.plan().steps().size() - 1), "the backward steps 30");
        assertTrue(p.restMicros() >= 0, "rest " + p.restMicros());
    }

    @Test
    void aStepThatFailsEndsTheProfileItWasPartOf() {
        Trainer t = DivergenceTest.line(0.75f);
        t.divergence().setRise(3, 10);
        assertThrows(DivergenceException.class, () -> t.profile(DivergenceTest.ONE, DivergenceTest.ZERO, 10));
        assertFalse(t.profiling());
        // and the trainer goes on, profiled or not, with the same bits as before
        t.divergence().setMode(DivergenceGuard.Mode.OFF);
        assertEquals(1, t.profile(DivergenceTest.ONE, DivergenceTest.ZERO, 1).trainingSteps());
    }

    @Test
    void badRequestsSayWhatIsWrong() {
        Trainer t = mlp(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.profile(X, Y, 0));
        assertTrue(e.getMessage().contains("steps to profile must be >= 1, got 0"), e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class, t::stopProfile);
        assertTrue(s.getMessage().contains("startProfile"), s.getMessage());
        // a failing step ends the profile it was part of, and leaves no timer behind
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> t.profile(new float[3], Y, 2));
        assertTrue(bad.getMessage().contains("input 'x'"), bad.getMessage());
        assertFalse(t.profiling());
        // an executor's timer must fit its plan
        var ex = new dev.vgrad.runtime.Executor(t.plan(), new float[t.plan().paramsSize()], new float[t.plan().paramsSize()],
                new float[t.plan().arenaSize()], 1);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> ex.setTimer(new StepTimer(3)));
        assertEquals("the timer has room for 3 steps, the plan has " + t.plan().steps().size(), size.getMessage());
        // a plan step outside the plan
        StepProfile p = t.profile(X, Y, 1);
        IndexOutOfBoundsException out = assertThrows(IndexOutOfBoundsException.class, () -> p.micros(99));
        assertEquals("plan step 99 is outside [0, " + t.plan().steps().size() + ")", out.getMessage());
    }
}
