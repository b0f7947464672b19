package dev.vgrad.spark;

import dev.vgrad.spark.WorkerPool.Worker;
import java.io.Serializable;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * One step's work on the executors, as the two functions of {@code treeAggregate}: {@link #add} folds a
 * partition's share of the global batch into a flat {@code double[]} (the SUM of its rows' gradients,
 * not the mean), {@link #merge} adds two such buffers. The zero value is an empty array, so nothing of
 * the parameter size travels to the executors except the broadcast parameters.
 *
 * <p>Buffer layout: {@code [0, P)} the summed gradient in the PARAMS layout of the plan, then
 * {@link #LOSS} the summed loss, {@link #ROWS} the rows counted, {@link #KERNEL_NANOS} and
 * {@link #KERNEL_MAX_NANOS} the time spent in vgrad (gather, forward, backward, scaling) summed and the
 * largest per partition, {@link #MERGE_NANOS} the time spent adding buffers, {@link #FETCH_MAX_NANOS} the
 * longest wait for the broadcast parameters.
 */
final class GradientSum implements Serializable {
    private static final long serialVersionUID = 1L;

    static final int LOSS = 0, ROWS = 1, KERNEL_NANOS = 2, KERNEL_MAX_NANOS = 3, MERGE_NANOS = 4, FETCH_MAX_NANOS = 5, EXTRA = 6;

    final ModelSpec spec;
    final int batch;
    final long n;
    final long seed;
    final int epoch;
    final long from;
    final long to;
    final long step;
    final Broadcast<float[]> params;
    final FailureHook failure;

    GradientSum(ModelSpec spec, int batch, long n, long seed, int epoch, long from, long to, long step, Broadcast<float[]> params,
                FailureHook failure) {
        this.spec = spec;
        this.batch = batch;
        this.n = n;
        this.seed = seed;
        this.epoch = epoch;
        this.from = from;
        this.to = to;
        this.step = step;
        this.params = params;
        this.failure = failure;
    }

    /** seqOp: acc += the summed gradient, loss and row count of this shard's rows in the batch. */
    double[] add(double[] acc, Shard shard) {
        if (failure != null) failure.check(step, shard.partition, TaskContext.get());
        long t0 = System.nanoTime();
        Worker w = WorkerPool.borrow(spec, batch);
        try {
            int rows = shard.gather(n, seed, epoch, from, to, w.x, w.y);
            if (rows == 0) return acc;
            long f0 = System.nanoTime();
            float[] p = params.value();
            long fetch = System.nanoTime() - f0;
            float[] live = w.trainer.params();
            if (p.length != live.length) {
                throw new IllegalStateException("step " + step + ": broadcast parameters have " + p.length + " floats, the plan of "
                        + spec.text() + " needs " + live.length);
            }
            System.arraycopy(p, 0, live, 0, live.length);
            double loss = w.trainer.gradients(w.x, w.y, rows);  // mean over the rows
            float[] g = w.trainer.grads();
            int size = g.length;
            if (acc.length == 0) acc = new double[size + EXTRA];
            // the engine's gradient is the mean over rows: times rows gives this shard's sum
            for (int i = 0; i < size; i++) acc[i] += (double) g[i] * rows;
            acc[size + LOSS] += loss * rows;
            acc[size + ROWS] += rows;
            long dt = System.nanoTime() - t0 - fetch;
            acc[size + FETCH_MAX_NANOS] = Math.max(acc[size + FETCH_MAX_NANOS], fetch);
            acc[size + KERNEL_NANOS] += dt;
            acc[size + KERNEL_MAX_NANOS] = Math.max(acc[size + KERNEL_MAX_NANOS], dt);
            return acc;
        } finally {
            WorkerPool.giveBack(spec, batch, w);
        }
    }

    /** combOp: a += b, elementwise, in double (either may be the empty zero value). */
    static double[] merge(double[] a, double[] b) {
        if (a.length == 0) return b;
        if (b.length == 0) return a;
        if (a.length != b.length) throw new IllegalStateException("gradient buffers of " + a.length + " and " + b.length + " doubles");
        long t0 = System.nanoTime();
        int size = a.length - EXTRA;
        for (int i = 0; i < size + KERNEL_NANOS + 1; i++) a[i] += b[i];
        a[size + KERNEL_MAX_NANOS] = Math.max(a[size + KERNEL_MAX_NANOS], b[size + KERNEL_MAX_NANOS]);
        a[size + FETCH_MAX_NANOS] = Math.max(a[size + FETCH_MAX_NANOS], b[size + FETCH_MAX_NANOS]);
        a[size + MERGE_NANOS] += b[size + MERGE_NANOS] + (System.nanoTime() - t0);
        return a;
    }
}
