package dev.vgrad.train;

import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Step;
import dev.vgrad.runtime.StepTimer;

/**
 * Where the training steps' time went, step by step of the plan: {@link Trainer#startProfile} to
 * {@link Trainer#stopProfile}, or {@link Trainer#profile}. Wall time from the calling thread's clock
 * ({@code System.nanoTime}), summed over the training steps run in between (validation and prediction calls are not
 * counted). Steps that ran side by side on 2+ threads are one run, timed as a whole. What the plan steps and the
 * update leave of a training step is the rest: binding the input and labels, the divergence check, telemetry.
 * A snapshot: later steps do not change it.
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

    /** Training steps profiled (a batch the divergence guard ran again counts once; its forward steps count each run). */
    public long steps() { return steps; }

    /** Rows (samples) those steps trained on. */
    public long rows() { return rows; }

    /** Threads the trainer ran on when the profile was taken. */
    public int threads() { return threads; }

    /** Mean wall time of a training step, in microseconds (0 without steps). */
    public double stepMicros() { return steps == 0 ? 0 : stepNanos / 1e3 / steps; }

    /** The fastest training step, in microseconds. */
    public double minStepMicros() { return minStepNanos / 1e3; }

    /** Samples a second over the profiled steps. */
    public double samplesPerSecond() { return stepNanos == 0 ? 0 : rows / (stepNanos / 1e9); }

    /** Mean wall time of the optimizer update a step, in microseconds. */
    public double updateMicros() { return steps == 0 ? 0 : updateNanos / 1e3 / steps; }

    /** Times plan step {@code s} ran alone or started a side-by-side run. */
    public long calls(int s) { return t.calls(s); }

    /** Mean wall time of plan step {@code s} a call (its whole run when it started one), in microseconds. */
    public double micros(int s) { return t.calls(s) == 0 ? 0 : t.nanos(s) / 1e3 / t.calls(s); }

    /** Its fastest call, in microseconds. */
    public double minMicros(int s) { return t.minNanos(s) / 1e3; }

    /** Times plan step {@code s} ran inside a side-by-side run an earlier step started (timed with that step). */
    public long inRuns(int s) { return t.inRuns(s); }

    /** GFLOP a second of plan step {@code s} (with the steps of the run it started), over its calls. */
    public double gflops(int s) {
        if (t.nanos(s) == 0) return 0;
        int end = Math.max(t.runEnd(s), s + 1);
        double flop = 0;
        for (int q = s; q < end; q++) flop += (double) plan.steps().get(q).flops() * t.rows(s) / plan.batch();
        return flop / t.nanos(s);
    }

    /** The microseconds a step spent outside the plan's steps and the update: input, divergence check, telemetry. */
    public double restMicros() {
        if (steps == 0) return 0;
        long inSteps = 0;
        for (int s = 0; s < t.steps(); s++) inSteps += t.nanos(s);
        return (stepNanos - inSteps - updateNanos) / 1e3 / steps;
    }

    /** A table of the plan's steps: calls, mean and fastest microseconds, GFLOPS and share of the training steps' time. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("profile: %,d training steps on %d thread%s, %,d samples: %,.1f us a step (fastest %,.1f), %,.0f samples/s%n",
                steps, threads, threads == 1 ? "" : "s", rows, stepMicros(), minStepMicros(), samplesPerSecond()));
        sb.append(String.format("  %-7s %-4s %-26s %-34s %7s %10s %10s %8s %7s%n", "#", "pass", "kernel", "node", "calls", "mean us",
                "min us", "GFLOPS", "share"));
        for (int s = 0; s < t.steps(); s++) {
            Step st = plan.steps().get(s);
            if (t.calls(s) == 0 && t.inRuns(s) > 0) continue; // in a run printed with the step that started it
            int end = Math.max(t.runEnd(s), s + 1);
            String id = end > s + 1 ? s + "-" + (end - 1) : Integer.toString(s);
            String kernel = st.kernel(), node = st.label();
            if (end > s + 1) {
                kernel = "side by side";
                StringBuilder names = new StringBuilder();
                for (int q = s; q < end; q++) names.append(q == s ? "" : ", ").append(plan.steps().get(q).label());
                node = names.toString();
            }
            sb.append(String.format("  %-7s %-4s %-26s %-34s %,7d %,10.1f %,10.1f %8s %6.1f%%%n", id, st.backward() ? "bwd" : "fwd", kernel,
                    node, t.calls(s), micros(s), minMicros(s), t.calls(s) == 0 ? "" : String.format("%.1f", gflops(s)), share(t.nanos(s))));
        }
        sb.append(String.format("  %-7s %-4s %-26s %-34s %,7d %,10.1f %,10.1f %8s %6.1f%%%n", "", "", "update", update, steps, updateMicros(),
                minUpdateNanos / 1e3, "", share(updateNanos)));
        sb.append(String.format("  %-7s %-4s %-26s %-34s %7s %,10.1f %10s %8s %6.1f%%%n", "", "", "rest", "input, loss check, telemetry", "",
                restMicros(), "", "", stepNanos == 0 ? 0.0 : 100.0 * restMicros() * steps * 1e3 / stepNanos));
        return sb.toString();
    }

    private double share(long n) {
        return stepNanos == 0 ? 0 : 100.0 * n / stepNanos;
    }

    @Override
    public String toString() { return describe(); }
}
