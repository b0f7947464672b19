package dev.vgrad.spark;

import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The executor side's compiled models: one pool per (model, batch) per JVM, holding a {@link Worker}
 * for each task slot that has needed one. A worker is compiled the first time a slot asks and reused by
 * every later step, so a plan is compiled once per executor core, never per step. Trainers are not
 * thread-safe, so a task borrows a worker for the length of its partition's work and gives it back.
 */
final class WorkerPool {
    private WorkerPool() {}

    private record Key(ModelSpec spec, int batch) {}

    private static final Map<Key, Queue<Worker>> POOLS = new ConcurrentHashMap<>();
    private static final Map<Key, java.util.concurrent.atomic.AtomicLong> COMPILED = new ConcurrentHashMap<>();

    /** A compiled trainer with input buffers for one batch: (batch, features) floats and batch labels. */
    static final class Worker {
        final Trainer trainer;
        final float[] x;
        final int[] y;

        Worker(ModelSpec spec, int batch) {
            // the seed and optimizer are irrelevant: parameters come from the driver each step, updates happen there
            this.trainer = new Trainer(spec.graph(batch), new Optimizer.Sgd(1f), 0);
            this.x = new float[batch * spec.features()];
            this.y = new int[batch];
        }
    }

    static Worker borrow(ModelSpec spec, int batch) {
        Queue<Worker> q = POOLS.computeIfAbsent(new Key(spec, batch), k -> new ConcurrentLinkedQueue<>());
        Worker w = q.poll();
        if (w != null) return w;
        COMPILED.computeIfAbsent(new Key(spec, batch), k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
        return new Worker(spec, batch);
    }

    static void giveBack(ModelSpec spec, int batch, Worker w) {
        POOLS.get(new Key(spec, batch)).add(w);
    }

    /** How many workers this JVM has compiled for (spec, batch): at most one per concurrent task slot. */
    static long compiled(ModelSpec spec, int batch) {
        var n = COMPILED.get(new Key(spec, batch));
        return n == null ? 0 : n.get();
    }
}
