package dev.vgrad.train;

import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Step;
import dev.vgrad.runtime.StepTimer;

/**
 * Where the training steps' time went, step by step of the plan: {@link Trainer#startProfile} to
 * {@link Trainer#stopProfile}, or {@link Trainer#profile}. Wall time from the calling thread's clock
 * ({@code System.nanoTime}), summed over the training steps run in between (validation and prediction calls are not
 * counted). A plan step that ran alone is one row; steps that ran side by side on 2+ threads are one run, timed as a
 * whole, a row of their own. The update row is the optimizer's pass (with telemetry's norms on the steps it samples).
 * What those leave of the training steps is the rest: reading the input and labels, the divergence check,
 * telemetry's other work, and the forward passes of batches the divergence guard ran again. A snapshot: later steps
 * do not change it.
 */
public final class StepProfile {
    private final Plan plan;
    private final int threads;
    private final String update;
    private final long steps, rows, stepNanos, minStepNanos, updateNanos, minUpdateNanos;
    // the plan steps' times: a snapshot, never recorded into
    private final StepTimer t;

    StepProfile(Plan plan, int threads, String update, long steps, long rows, long stepNanos, long minStepNanos, long updateNanos,
                long minUpdateNanos, StepTimer timer) {
        this.plan = plan;
        this.threads = threads;
        this.update = update;
        this.steps = steps;
        this.rows = rows;
        this.stepNanos = stepNanos;
        this.minStepNanos = steps == 0 ? 0 : minStepNanos;
        this.updateNanos = updateNanos;
        this.minUpdateNanos = steps == 0 ? 0 : minUpdateNanos;
        this.t = timer.snapshot();
    }

    /** Training steps profiled (a batch the divergence guard ran again counts once). */
    public long trainingSteps() { return steps; }

    /** Steps of the plan (the indices the per-step methods take). */
    public int planSteps() { return t.steps(); }

    /** Rows (samples) the training steps trained on. */
    public long rows() { return rows; }

    /** Threads the trainer ran on when the profile was taken. */
    public int threads() { return threads; }

    /** Mean wall time of a training step, in microseconds (0 without steps). */
    public double stepMicros() { return steps == 0 ? 0 : stepNanos / 1e3 / steps; }

    /** The fastest training step, in microseconds. */
    public double minStepMicros() { return minStepNanos / 1e3; }

    /** Samples a second over the profiled steps. */
    public double samplesPerSecond() { return stepNanos == 0 ? 0 : rows / (stepNanos / 1e9); }

    /** Mean wall time of the optimizer update a training step, in microseconds. */
    public double updateMicros() { return steps == 0 ? 0 : updateNanos / 1e3 / steps; }

    /** The fastest update, in microseconds. */
    public double minUpdateMicros() { return minUpdateNanos / 1e3; }

    /** Times plan step {@code s} ran alone. */
    public long calls(int s) { return t.calls(s); }

    /** Mean wall time of plan step {@code s} run alone, in microseconds a call (0 when it never ran alone). */
    public double micros(int s) { return t.calls(s) == 0 ? 0 : t.nanos(s) / 1e3 / t.calls(s); }

    /** Its fastest lone call, in microseconds. */
    public double minMicros(int s) { return t.minNanos(s) / 1e3; }

    /** GFLOP a second of plan step {@code s} run alone: its FLOPs at the rows run over its time (0 without time). */
    public double gflops(int s) { return gflops(s, s + 1, t.rows(s), t.nanos(s)); }

    /** Side-by-side runs plan step {@code s} started (2+ threads). */
    public long runCalls(int s) { return t.runCalls(s); }

    /** The end (exclusive) of the longest run it started, or 0. */
    public int runEnd(int s) { return t.runEnd(s); }

    /** Mean wall time of those runs, in microseconds a run. */
    public double runMicros(int s) { return t.runCalls(s) == 0 ? 0 : t.runNanos(s) / 1e3 / t.runCalls(s); }

    /** The fastest of those runs, in microseconds. */
    public double runMinMicros(int s) { return t.runMinNanos(s) / 1e3; }

    /** GFLOP a second of those runs: the FLOPs of all their steps at the rows run over their time. */
    public double runGflops(int s) { return gflops(s, Math.max(t.runEnd(s), s + 1), t.runRows(s), t.runNanos(s)); }

    /** Times plan step {@code s} ran inside a side-by-side run an earlier step started (timed with that step). */
    public long inRuns(int s) { return t.inRuns(s); }

    /** The microseconds a training step spent outside the plan's steps and the update (see the class comment). */
    public double restMicros() { return steps == 0 ? 0 : restNanos() / 1e3 / steps; }

    private long restNanos() { return stepNanos - t.totalNanos() - updateNanos; }

    // FLOPs of plan steps [from, to) at `rows` rows in all (Step.flops is at the compiled batch) over `nanos`
    private double gflops(int from, int to, long rows, long nanos) {
        if (nanos == 0) return 0;
        double flop = 0;
        for (int q = from; q < to; q++) flop += (double) plan.steps().get(q).flops() * rows / plan.batch();
        return flop / nanos;
    }

    /**
     * A table: a row per plan step run alone and per side-by-side run (calls, mean and fastest microseconds, GFLOPS,
     * share of the training steps' time), then the update and the rest.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("profile: %,d training steps on %d thread%s, %,d samples: %,.1f us a step (fastest %,.1f), %,.0f samples/s%n",
                steps, threads, threads == 1 ? "" : "s", rows, stepMicros(), minStepMicros(), samplesPerSecond()));
        sb.append(String.format("  %-7s %-4s %-26s %-34s %7s %10s %10s %8s %7s%n", "#", "pass", "kernel", "node", "calls", "mean us",
                "min us", "GFLOPS", "share"));
        for (int s = 0; s < t.steps(); s++) {
            Step st = plan.steps().get(s);
            String pass = st.backward() ? "bwd" : "fwd";
            // a step that never ran alone nor started a run: in others' runs only, or never run (a row of zeros)
            if (t.calls(s) > 0 || (t.runCalls(s) == 0 && t.inRuns(s) == 0)) {
                row(sb, Integer.toString(s), pass, st.kernel(), st.label(), t.calls(s), micros(s), minMicros(s), gflops(s), t.nanos(s));
            }
            if (t.runCalls(s) > 0) {
                int end = t.runEnd(s);
                StringBuilder names = new StringBuilder();
                for (int q = s; q < end; q++) names.append(q == s ? "" : ", ").append(plan.steps().get(q).label());
                row(sb, s + "-" + (end - 1), pass, "side by side", names.toString(), t.runCalls(s), runMicros(s), runMinMicros(s),
                        runGflops(s), t.runNanos(s));
            }
        }
        row(sb, "", "", "update", update, steps, updateMicros(), minUpdateMicros(), 0, updateNanos);
        row(sb, "", "", "rest", "input, loss check, telemetry", -1, restMicros(), -1, 0, restNanos());
        return sb.toString();
    }

    // one row; calls or min < 0 and gflops 0 leave their column empty
    private void row(StringBuilder sb, String id, String pass, String kernel, String node, long calls, double micros, double min,
                     double gflops, long nanos) {
        sb.append(String.format("  %-7s %-4s %-26s %-34s %7s %,10.1f %10s %8s %6.1f%%%n", id, pass, kernel, node,
                calls < 0 ? "" : String.format("%,d", calls), micros, min < 0 ? "" : String.format("%,.1f", min),
                gflops == 0 ? "" : String.format("%.1f", gflops), stepNanos == 0 ? 0.0 : 100.0 * nanos / stepNanos));
    }

    @Override
    public String toString() { return describe(); }
}
