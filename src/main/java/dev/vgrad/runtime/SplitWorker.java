package dev.vgrad.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A second core for one batch-1 call at a time ({@link Predictor.Options#splitCores}): for each dense layer
 * the caller hands the helper thread the upper half of the layer's column panels, does the lower half
 * itself, and waits for the helper before the next layer (which reads all of this one's outputs). The
 * hand-off is two volatile counters, no lock; the helper spins for a while after each job (so the next
 * layer's hand-off costs a cache-line transfer, not a wake-up), then parks. One caller holds the helper at a
 * time ({@link #tryAcquire}); others run unsplit, and so does a call that finds the helper parked. Nothing is
 * allocated per call.
 */
final class SplitWorker implements Runnable {
    /** The job: one half of one dense layer for one row. Written by the caller before it publishes {@link #posted}. */
    interface Job {
        void runUpperHalf(float[] arena, int layer);
    }

    /** How long the helper spins for the next job before parking. */
    private static final long SPIN_NANOS = 200_000;

    private final Job job;
    private final Thread thread;
    private final AtomicBoolean held = new AtomicBoolean();
    private volatile int posted;
    private volatile int finished;
    private volatile boolean parked;
    // when the last call found the helper parked (System.nanoTime): whether traffic would keep a woken helper spinning
    private volatile long lastCall = System.nanoTime() - SPIN_NANOS;
    // calls that took the helper (written by the holder only)
    private volatile long acquired;
    private volatile boolean stopped;
    private float[] arena;
    private int layer;
    private volatile Throwable failure;

    SplitWorker(Job job, String name) {
        this.job = job;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this);
        thread.start();
    }

    /**
     * Takes the helper for one call; false if another caller has it, or if it is parked: woken, it would start its first
     * half tens of microseconds into the call (one 784-256-256-10 row at a call every 300 us: p50 43.6 us split against
     * 11.8 unsplit, probe). A call that finds it parked wakes it for the calls that follow when it came within the
     * helper's spin time of the previous call that found it parked (traffic that keeps it spinning); at sparser traffic
     * the helper stays parked and every call runs unsplit.
     */
    boolean tryAcquire() {
        if (parked) {
            // only calls that find it parked read the clock and write this shared field
            long now = System.nanoTime(), last = lastCall;
            lastCall = now;
            if (now - last < SPIN_NANOS) LockSupport.unpark(thread);
            return false;
        }
        if (held.get() || !held.compareAndSet(false, true)) return false;
        acquired++;
        return true;
    }

    /** Calls that took the helper so far: a diagnostic. */
    long acquired() { return acquired; }

    void release() { held.set(false); }

    /** Starts the helper on {@code layer}'s upper half (the caller holds the helper). */
    void post(float[] arena, int layer) {
        this.arena = arena;
        this.layer = layer;
        posted = posted + 1; // volatile write publishes arena and layer
        if (parked) LockSupport.unpark(thread);
    }

    /** Waits for the job posted last. */
    void await() {
        int want = posted;
        while (finished != want) Thread.onSpinWait();
        Throwable f = failure;
        if (f != null) throw new IllegalStateException("split helper failed", f);
    }

    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        int seen = 0;
        while (!stopped) {
            // spin for the next job, then park
            long until = System.nanoTime() + SPIN_NANOS;
            while (posted == seen && !stopped) {
                if (System.nanoTime() > until) {
                    parked = true;
                    if (posted == seen && !stopped) LockSupport.park(this);
                    parked = false;
                    until = System.nanoTime() + SPIN_NANOS;
                } else {
                    Thread.onSpinWait();
                }
            }
            if (stopped) return;
            seen = posted;
            try {
                job.runUpperHalf(arena, layer);
            } catch (Throwable t) {
                failure = t;
            }
            finished = seen;
        }
    }
}
