package dev.vgrad.runtime;

import java.util.Arrays;

/**
 * Wall time of each plan step, summed over the steps an {@link Executor} runs while this timer is set on it
 * ({@link Executor#setTimer}): where a step's time goes. A step that runs alone is recorded on its own; steps that
 * run side by side ({@code Plan.lane}, 2+ threads) are one run, timed as a whole and recorded on the run's first step
 * apart from its lone calls (a partial batch may run the same steps one after another), and the run's other steps
 * count the runs they were part of ({@link #inRuns}). Recording allocates nothing: a timer may stay set through a
 * whole training run.
 */
public final class StepTimer {
    // per step s: [s] its lone calls, [steps + s] the side-by-side runs it started
    private final long[] nanos, minNanos, calls, rows;
    private final long[] inRuns;
    private final int[] runEnd;

    /** A timer for a plan of {@code steps} steps. */
    public StepTimer(int steps) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        nanos = new long[2 * steps];
        minNanos = new long[2 * steps];
        calls = new long[2 * steps];
        rows = new long[2 * steps];
        inRuns = new long[steps];
        runEnd = new int[steps];
        reset();
    }

    private StepTimer(StepTimer o) {
        nanos = o.nanos.clone();
        minNanos = o.minNanos.clone();
        calls = o.calls.clone();
        rows = o.rows.clone();
        inRuns = o.inRuns.clone();
        runEnd = o.runEnd.clone();
    }

    /** A copy of what has been recorded so far, which later recording does not change. */
    public StepTimer snapshot() { return new StepTimer(this); }

    /** Forgets everything recorded. */
    public void reset() {
        Arrays.fill(nanos, 0);
        Arrays.fill(minNanos, Long.MAX_VALUE);
        Arrays.fill(calls, 0);
        Arrays.fill(rows, 0);
        Arrays.fill(inRuns, 0);
        Arrays.fill(runEnd, 0);
    }

    /** Steps [from, to) ran as one run (to = from + 1: step from alone) on {@code r} rows, taking {@code elapsed} ns. */
    void record(int from, int to, int r, long elapsed) {
        int i = to > from + 1 ? steps() + from : from;
        nanos[i] += elapsed;
        calls[i]++;
        rows[i] += r;
        if (elapsed < minNanos[i]) minNanos[i] = elapsed;
        if (to > from + 1) {
            runEnd[from] = Math.max(runEnd[from], to);
            for (int s = from + 1; s < to; s++) inRuns[s]++;
        }
    }

    /** The number of plan steps this timer has room for. */
    public int steps() { return inRuns.length; }

    private int step(int s) {
        if (s < 0 || s >= steps()) throw new IndexOutOfBoundsException("plan step " + s + " is outside [0, " + steps() + ")");
        return s;
    }

    /** Nanoseconds step {@code s} took alone, in all. */
    public long nanos(int s) { return nanos[step(s)]; }

    /** Its fastest lone call in nanoseconds, or 0 when it never ran alone. */
    public long minNanos(int s) { return calls[step(s)] == 0 ? 0 : minNanos[s]; }

    /** How many times step {@code s} ran alone. */
    public long calls(int s) { return calls[step(s)]; }

    /** The rows of those calls together (a partial last batch runs fewer). */
    public long rows(int s) { return rows[step(s)]; }

    /** Nanoseconds the side-by-side runs step {@code s} started took, in all (0 when it started none). */
    public long runNanos(int s) { return nanos[steps() + step(s)]; }

    /** The fastest of those runs in nanoseconds, or 0. */
    public long runMinNanos(int s) { return calls[steps() + step(s)] == 0 ? 0 : minNanos[steps() + s]; }

    /** How many side-by-side runs step {@code s} started. */
    public long runCalls(int s) { return calls[steps() + step(s)]; }

    /** The rows of those runs together. */
    public long runRows(int s) { return rows[steps() + step(s)]; }

    /** The end (exclusive) of the longest run step {@code s} started, or 0 when it started none. */
    public int runEnd(int s) { return runEnd[step(s)]; }

    /** How many times step {@code s} ran inside a run an earlier step started (its time is that step's). */
    public long inRuns(int s) { return inRuns[step(s)]; }

    /** Nanoseconds of all steps and runs together. */
    public long totalNanos() {
        long t = 0;
        for (long v : nanos) t += v;
        return t;
    }
}
