package dev.vgrad.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * A second core for one batch-1 call at a time ({@link Predictor.Options#splitCores}): for each dense layer
 * the caller hands the helper thread the upper half of the layer's column panels, does the lower half
 * itself, and waits for the helper before the next layer (which reads all of this one's outputs). The
 * hand-off is two volatile counters, no lock; the helper spins for a while after each job (so the next
 * layer's hand-off costs a cache-line transfer, not a wake-up), then parks. One caller holds the helper at a
 * time ({@link #tryAcquire}); others run unsplit. Nothing is allocated per call.
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
    private volatile boolean stopped;
    private float[] arena;
    private int layer;
    private volatile Throwable failure;

    SplitWorker(Job job, String name) {
        this.job = job;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this);
        thread.start();
    }

    /** Takes the helper for one call; false if another caller has it. */
    boolean tryAcquire() { return !held.get() && held.compareAndSet(false, true); }

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
