package dev.vgrad.runtime;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine's persistent worker threads: {@link #run} splits one task into parts, runs part 0 on the
 * calling thread and part w on worker w (or on the caller, below), and returns when all are done; a part never
 * depends on the thread that runs it (per-part state is indexed by the part). Nothing is allocated per call:
 * each worker has a mailbox (task, part count, a sequence number) written before the worker is
 * signalled. An idle worker spins for {@value #SPIN_NANOS} ns (the next GEMM of a training step
 * usually arrives sooner) and then parks, so idle workers leave the cores to the JIT and to others.
 *
 * <p>A part its worker has not started by the time the caller has finished its own runs on the caller: each
 * part is claimed once, by its worker or by the caller (a compare-and-set on the worker's {@code claimed}
 * sequence number), so a worker the OS has descheduled (more busy threads than cores) or one still waking from
 * park does not hold the caller up for work it has not begun. Waiting for it could only end later: it would
 * start after the caller is free and then take as long.
 *
 * <p>One pool per process ({@link #common()}), grown to the largest thread count any executor asks
 * for. If two threads dispatch at once, the second runs all its parts itself, one after another: the
 * parts never depend on the thread that runs them, so the results are the same. Every part runs even when one
 * fails; the first failure is rethrown.
 */
public final class WorkerPool {
    /** A task split into parts: {@code run(part, parts)} computes part {@code part} of {@code parts}. */
    public interface Task {
        void run(int part, int parts);
    }

    /** How long an idle worker spins before it parks. */
    static final long SPIN_NANOS = 100_000;

    private static final WorkerPool COMMON = new WorkerPool();

    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Worker[] workers = new Worker[0];
    // the first failure of a worker's part in the current dispatch
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private long sequence;
    // parts run on the dispatching thread because their worker had not started them (a diagnostic)
    private long partsRunByCaller;
    // tests: workers wait before claiming a part while set, as a descheduled worker would
    private volatile boolean holdWorkers;

    private static final VarHandle CLAIMED;
    static {
        try {
            CLAIMED = MethodHandles.lookup().findVarHandle(Worker.class, "claimed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private WorkerPool() {}

    /** The process-wide pool. */
    public static WorkerPool common() { return COMMON; }

    /** Worker threads (besides the caller's). */
    public int workers() { return workers.length; }

    /** Parts the dispatching thread ran because their worker had not started them, so far: a diagnostic. */
    public long partsRunByCaller() { return partsRunByCaller; }

    /** Tests: while {@code hold}, workers do not claim parts (as if descheduled), so the caller runs them all. */
    void holdWorkers(boolean hold) { holdWorkers = hold; }

    // claims worker w's part of dispatch seq, for w or for the dispatcher: true for exactly one of them
    private static boolean claim(Worker w, long seq) {
        for (long c; (c = w.claimed) < seq; ) {
            if (CLAIMED.compareAndSet(w, c, seq)) return true;
        }
        return false;
    }

    /** Makes sure {@code threads - 1} workers exist (allocates threads; call at construction, not per step). */
    public void ensureThreads(int threads) {
        if (threads - 1 <= workers.length) return;
        synchronized (this) {
            while (!busy.compareAndSet(false, true)) Thread.onSpinWait();
            try {
                Worker[] old = workers;
                if (threads - 1 <= old.length) return;
                Worker[] grown = java.util.Arrays.copyOf(old, threads - 1);
                for (int i = old.length; i < grown.length; i++) {
                    grown[i] = new Worker(this, i + 1);
                    grown[i].start();
                }
                workers = grown;
            } finally {
                busy.set(false);
            }
        }
    }

    /**
     * Runs {@code task} as {@code parts} parts (at most one more than the workers) and waits for all of
     * them; rethrows the first failure of a part (the caller's own before a worker's).
     */
    public void run(Task task, int parts) {
        Worker[] ws = workers;
        parts = Math.max(1, Math.min(parts, ws.length + 1));
        if (parts == 1) {
            task.run(0, 1);
            return;
        }
        if (!busy.compareAndSet(false, true)) {
            // another thread is using the workers: run every part here, then rethrow the first failure, as below
            Throwable first = null;
            for (int p = 0; p < parts; p++) {
                try {
                    task.run(p, parts);
                } catch (Throwable t) {
                    if (first == null) first = t;
                }
            }
            if (first != null) throw sneaky(first);
            return;
        }
        try {
            long seq = ++sequence;
            // post the parts to the workers' mailboxes, then wake the parked ones
            for (int w = 0; w < parts - 1; w++) {
                Worker wk = ws[w];
                wk.task = task;
                wk.parts = parts;
                wk.go = seq;
                if (wk.parked) LockSupport.unpark(wk);
            }
            Throwable mine = null;
            try {
                task.run(0, parts);
            } catch (Throwable t) {
                mine = t;
            }
            // a part its worker has not started (descheduled, or still waking from park) runs here: waiting could only
            // end later
            for (int w = 0; w < parts - 1; w++) {
                Worker wk = ws[w];
                if (wk.claimed < seq && claim(wk, seq)) {
                    partsRunByCaller++;
                    try {
                        task.run(w + 1, parts);
                    } catch (Throwable t) {
                        if (mine == null) mine = t;
                    }
                    wk.task = null;
                    wk.done = seq;
                }
            }
            // wait for the parts the workers run
            for (int w = 0; w < parts - 1; w++) {
                Worker wk = ws[w];
                long spins = 0;
                while (wk.done != seq) {
                    if (++spins < 100_000) Thread.onSpinWait();
                    else Thread.yield();
                }
            }
            Throwable theirs = failure.getAndSet(null);
            if (mine != null) throw sneaky(mine);
            if (theirs != null) throw sneaky(theirs);
        } finally {
            busy.set(false);
        }
    }

    private static RuntimeException sneaky(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("a worker's part failed", t);
    }

    /** One worker: waits for its mailbox's sequence number to change, runs its part, acknowledges. */
    private static final class Worker extends Thread {
        private final WorkerPool pool;
        private final int part;
        // mailbox: written by the dispatcher before go, read after seeing go and claiming the part
        Task task;
        int parts;
        volatile long go;
        // the last dispatch whose part was claimed, by this worker or by the dispatcher (claim)
        volatile long claimed;
        volatile long done;
        volatile boolean parked;

        Worker(WorkerPool pool, int index) {
            super("vgrad-worker-" + index);
            this.pool = pool;
            this.part = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0;
            long idleSince = System.nanoTime();
            while (true) {
                long g = go;
                if (g != seen) {
                    seen = g;
                    while (pool.holdWorkers) Thread.onSpinWait();
                    // the dispatcher may have run this part already (it then skipped waiting for us, and may have posted
                    // a later dispatch: go is read again next time round)
                    if (claim(this, g)) {
                        try {
                            task.run(part, parts);
                        } catch (Throwable t) {
                            pool.failure.compareAndSet(null, t);
                        }
                        task = null;
                        done = g;
                        idleSince = System.nanoTime();
                    }
                    // a part the caller ran does not restart the spin: on a host with more busy threads than cores, the
                    // spin would take a core from them
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    // spin over: park until the dispatcher unparks us (re-check go after announcing)
                    parked = true;
                    if (go == seen) LockSupport.park(this);
                    parked = false;
                }
            }
        }
    }
}
