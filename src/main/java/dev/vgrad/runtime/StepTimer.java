package dev.vgrad.runtime;

/**
 * Wall time of each plan step, summed over the steps an {@link Executor} runs while this timer is set on it
 * ({@link Executor#setTimer}): where a step's time goes. Steps that ran side by side ({@code Plan.lane}, 2+
 * threads) are one run, timed as a whole and recorded on the run's first step; the others count the runs they were
 * part of ({@link #inRuns}). Recording allocates nothing: a timer may stay set through a whole training run.
 */
public final class StepTimer {
    private final long[] nanos, minNanos, calls, rows, inRuns;
    private final int[] runEnd;

    /** A timer for a plan of {@code steps} steps. */
    public StepTimer(int steps) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        nanos = new long[steps];
        minNanos = new long[steps];
        calls = new long[steps];
        rows = new long[steps];
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
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(minNanos, Long.MAX_VALUE);
        java.util.Arrays.fill(calls, 0);
        java.util.Arrays.fill(rows, 0);
        java.util.Arrays.fill(inRuns, 0);
        java.util.Arrays.fill(runEnd, 0);
    }

    /** Steps [from, to) ran as one run on {@code r} rows, taking {@code elapsed} ns. */
    void record(int from, int to, int r, long elapsed) {
        nanos[from] += elapsed;
        calls[from]++;
        rows[from] += r;
        if (elapsed < minNanos[from]) minNanos[from] = elapsed;
        if (to > from + 1) {
            runEnd[from] = Math.max(runEnd[from], to);
            for (int s = from + 1; s < to; s++) inRuns[s]++;
        }
    }

    /** The number of plan steps this timer has room for. */
    public int steps() { return nanos.length; }

    /** Nanoseconds step {@code s} took in all (with the steps that ran side by side with it, when it started a run). */
    public long nanos(int s) { return nanos[s]; }

    /** Its fastest call in nanoseconds, or 0 when it never ran. */
    public long minNanos(int s) { return calls[s] == 0 ? 0 : minNanos[s]; }

    /** How many times step {@code s} ran alone or started a run. */
    public long calls(int s) { return calls[s]; }

    /** The rows of all those calls together (a partial last batch runs fewer). */
    public long rows(int s) { return rows[s]; }

    /** How many times step {@code s} ran inside a run an earlier step started (its time is that step's). */
    public long inRuns(int s) { return inRuns[s]; }

    /** The end (exclusive) of the longest run step {@code s} started, or 0 when it never started one. */
    public int runEnd(int s) { return runEnd[s]; }
}
