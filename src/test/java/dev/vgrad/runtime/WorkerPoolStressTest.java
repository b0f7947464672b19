package dev.vgrad.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many tiny dispatches of 2-5 parts from two threads at once, workers held and released at random (as the OS
 * deschedules them), parts that spin, yield, sleep or fail at random, and the pool grown while dispatches run: every part
 * of every dispatch runs exactly once, with that dispatch's part count, before its run returns, and a run throws exactly
 * when one of its own parts failed, with that part's failure.
 */
class WorkerPoolStressTest {
    private static final int DISPATCHES = Integer.getInteger("stress.dispatches", 10_000);

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void everyPartOfEveryDispatchRunsExactlyOnce() throws Exception {
        WorkerPool pool = WorkerPool.common();
        pool.ensureThreads(3);
        long callerBefore = pool.partsRunByCaller();
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        List<AtomicIntegerArray> all = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread flipper = new Thread(() -> {
            SplittableRandom r = new SplittableRandom(1);
            while (!stop.get()) {
                pool.holdWorkers(r.nextInt(3) == 0);
                LockSupport.parkNanos(r.nextInt(300_000));
            }
            pool.holdWorkers(false);
        });
        Thread grower = new Thread(() -> {
            LockSupport.parkNanos(300_000_000L);
            pool.ensureThreads(4);
            LockSupport.parkNanos(300_000_000L);
            pool.ensureThreads(5);
        });
        Thread second = new Thread(() -> dispatch(pool, new SplittableRandom(3), DISPATCHES / 4, "b", errors, all));
        flipper.start();
        grower.start();
        second.start();
        try {
            dispatch(pool, new SplittableRandom(2), DISPATCHES, "a", errors, all);
        } finally {
            stop.set(true);
            second.join();
            flipper.join();
            grower.join();
        }
        // no part of an earlier dispatch runs late
        Thread.sleep(100);
        for (AtomicIntegerArray hits : all) {
            for (int p = 0; p < 5; p++) {
                if (hits.get(p) > 1) errors.add("a part ran again after its dispatch returned: " + hits);
            }
        }
        System.out.println("stress: parts run by the caller for a worker: " + (pool.partsRunByCaller() - callerBefore));
        assertTrue(errors.isEmpty(), errors.size() + " errors: " + errors);
        assertTrue(pool.workers() >= 4, "grown while dispatching");
    }

    private static void dispatch(WorkerPool pool, SplittableRandom r, int count, String who, ConcurrentLinkedQueue<String> errors,
                                 List<AtomicIntegerArray> all) {
        for (int d = 0; d < count && errors.size() < 10; d++) {
            int parts = 2 + r.nextInt(4);
            // parts begun [0, 5), the part count the parts were given [5], parts finished [6, 11)
            AtomicIntegerArray hits = new AtomicIntegerArray(11);
            int failing = r.nextInt(16) == 0 ? r.nextInt(parts) : -1;
            long[] delay = new long[parts];
            for (int p = 0; p < parts; p++) {
                int x = r.nextInt(100);
                delay[p] = x < 60 ? 0 : x < 90 ? r.nextInt(20_000) : x < 98 ? -1 : -2;
            }
            String id = who + d;
            WorkerPool.Task task = (part, ps) -> {
                hits.incrementAndGet(part);
                int seenParts = hits.getAndSet(5, ps);
                if (seenParts != 0 && seenParts != ps) errors.add(id + ": parts disagree on the part count");
                try {
                    long dl = delay[Math.min(part, parts - 1)];
                    if (dl > 0) {
                        long until = System.nanoTime() + dl;
                        while (System.nanoTime() < until) Thread.onSpinWait();
                    } else if (dl == -1) {
                        Thread.yield();
                    } else if (dl == -2) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    if (part == failing) throw new IllegalStateException(id);
                } finally {
                    hits.incrementAndGet(6 + part);
                }
            };
            String thrown = null;
            try {
                pool.run(task, parts);
            } catch (IllegalStateException e) {
                thrown = e.getMessage();
            }
            int ps = hits.get(5);
            if (ps < 2 || ps > parts) errors.add(id + ": ran as " + ps + " parts of " + parts);
            boolean failed = failing >= 0 && failing < ps;
            for (int p = 0; p < 5; p++) {
                int want = p < ps ? 1 : 0;
                // every part runs, even after one fails (a busy pool runs them one after another on the caller)
                if (hits.get(6 + p) != hits.get(p)) errors.add(id + ": part " + p + " had not finished when the run returned");
                if (hits.get(p) != want) errors.add(id + ": part " + p + " of " + ps + " ran " + hits.get(p) + " times (part " + failing + " failed)");
            }
            if (failed ? !id.equals(thrown) : thrown != null) errors.add(id + ": threw " + thrown + ", part " + failing + " failed");
            all.add(hits);
        }
    }
}
