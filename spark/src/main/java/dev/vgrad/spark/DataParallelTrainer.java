package dev.vgrad.spark;

import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.nio.file.Path;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;

/**
 * Synchronous data-parallel training on Spark. Each step:
 * <ol>
 *   <li>the driver broadcasts the current parameters (one flat {@code float[]});</li>
 *   <li>every partition takes its rows of the step's global batch (see {@link Shard} for the split),
 *       runs forward and backward on an executor-cached compiled plan ({@link WorkerPool}) and emits the
 *       SUM of its rows' gradients as a flat {@code double[]};</li>
 *   <li>Spark adds those buffers with {@code treeAggregate};</li>
 *   <li>the driver divides by the batch's rows and applies the optimizer with the engine's own update
 *       ({@link Trainer#update}, the same kernels and Adam bias correction as single-machine training).</li>
 * </ol>
 * With the same model, seed, batch and epoch order, the parameters follow the single-machine
 * {@link Trainer}'s within float-summation tolerance (README, "Distributed training on Spark").
 *
 * <p>The driver's {@link Trainer} holds the parameters and the optimizer state; its global step count
 * fixes where training is (epoch = step / batchesPerEpoch), so a {@link Checkpoint} of it resumes exactly.
 */
public final class DataParallelTrainer implements AutoCloseable {
    private final JavaSparkContext sc;
    private final ModelSpec spec;
    private final int batch;
    private final long seed;
    private final Trainer driver;
    private final JavaRDD<Shard> shards;
    private final long rows;
    private final long batchesPerEpoch;
    private long step;
    private FailureHook failure;
    private int treeDepth = 2;

    /** Per-step figures; nanosecond times measured on the driver and inside the tasks. */
    public record StepStats(long step, int epoch, double loss, long rows, long wallNanos, long kernelNanos, long kernelMaxNanos,
                            long mergeNanos, long updateNanos, long broadcastNanos, long fetchMaxNanos, long jobNanos) {
        /** Wall time the slowest partition spent in vgrad, as a fraction of the step. */
        public double kernelFraction() { return (double) kernelMaxNanos / wallNanos; }
        /**
         * Everything that is neither vgrad's kernels nor the update: scheduling, (de)serialization, reduction, broadcast.
         * Of it, {@code broadcastNanos} is the driver's broadcast and its removal, {@code fetchMaxNanos} the longest
         * wait of a task for the parameters, {@code jobNanos} the treeAggregate job (tasks included).
         */
        public long sparkNanos() { return wallNanos - kernelMaxNanos - updateNanos; }
    }

    /**
     * A trainer for {@code spec} over {@code shards} ({@code rows} rows in all, global indices 0..rows-1),
     * initialised from {@code seed} exactly as {@code new Trainer(spec.graph(batch), optimizer, seed)}.
     * The shards are cached (memory, deserialized) for the trainer's life.
     */
    public DataParallelTrainer(JavaSparkContext sc, JavaRDD<Shard> shards, long rows, ModelSpec spec, int batch, Optimizer optimizer,
                               long seed) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (rows < 1) throw new IllegalArgumentException("the dataset is empty");
        this.sc = Objects.requireNonNull(sc, "spark context");
        this.spec = Objects.requireNonNull(spec, "model");
        this.batch = batch;
        this.seed = seed;
        this.rows = rows;
        this.batchesPerEpoch = EpochOrder.batches(rows, batch);
        this.driver = new Trainer(spec.graph(batch), optimizer, seed);
        this.shards = shards.persist(StorageLevel.MEMORY_ONLY());
    }

    /** Continues from a checkpoint: parameters, optimizer state and its step count, step, seed, batch and model. */
    public static DataParallelTrainer resume(JavaSparkContext sc, JavaRDD<Shard> shards, long rows, Checkpoint cp) {
        if (cp.rows() != rows) {
            throw new IllegalArgumentException("checkpoint was taken on " + cp.rows() + " rows, this dataset has " + rows
                    + ": the epoch order would differ");
        }
        DataParallelTrainer t = new DataParallelTrainer(sc, shards, rows, cp.spec(), cp.batch(), cp.optimizer(), cp.seed());
        cp.restore(t.driver);
        t.step = cp.step();
        return t;
    }

    /** Injects a one-time task failure (test hook); null for none. */
    public DataParallelTrainer failOnce(FailureHook hook) {
        this.failure = hook;
        return this;
    }

    /** The depth of Spark's aggregation tree (2 by default; deeper for many partitions). */
    public DataParallelTrainer treeDepth(int depth) {
        if (depth < 1) throw new IllegalArgumentException("tree depth must be >= 1, got " + depth);
        this.treeDepth = depth;
        return this;
    }

    /** One synchronous step on the next global batch. */
    public StepStats step() {
        long t0 = System.nanoTime();
        int epoch = (int) (step / batchesPerEpoch);
        long from = (step % batchesPerEpoch) * batch;
        long to = Math.min(from + batch, rows);
        Broadcast<float[]> params = sc.broadcast(driver.params().clone());
        long b1 = System.nanoTime();
        double[] sum;
        long j1;
        try {
            GradientSum job = new GradientSum(spec, batch, rows, seed, epoch, from, to, step, params, failure);
            sum = shards.treeAggregate(new double[0], job::add, GradientSum::merge, treeDepth);
        } finally {
            j1 = System.nanoTime();
            params.destroy();
        }
        long d1 = System.nanoTime();
        float[] g = driver.grads();
        int size = g.length;
        long got = sum.length == 0 ? 0 : (long) sum[size + GradientSum.ROWS];
        if (sum.length != size + GradientSum.EXTRA || got != to - from) {
            throw new IllegalStateException("step " + step + ": the partitions returned " + got + " rows of global batch [" + from + ", "
                    + to + "), expected " + (to - from) + " (are the row indices 0.." + (rows - 1) + " each held once?)");
        }
        // mean gradient of the batch, then the engine's optimizer update on the driver
        long u0 = System.nanoTime();
        double inv = 1.0 / got;
        for (int i = 0; i < size; i++) g[i] = (float) (sum[i] * inv);
        driver.update();
        long u1 = System.nanoTime();
        StepStats s = new StepStats(step, epoch, sum[size + GradientSum.LOSS] * inv, got, u1 - t0, (long) sum[size + GradientSum.KERNEL_NANOS],
                (long) sum[size + GradientSum.KERNEL_MAX_NANOS], (long) sum[size + GradientSum.MERGE_NANOS], u1 - u0, (b1 - t0) + (d1 - j1),
                (long) sum[size + GradientSum.FETCH_MAX_NANOS], j1 - b1);
        step++;
        return s;
    }

    /** Runs {@code steps} steps, writing a checkpoint to {@code checkpoint} after every {@code every} steps (0: never). */
    public StepStats train(long steps, Path checkpoint, long every) {
        StepStats last = null;
        for (long i = 0; i < steps; i++) {
            last = step();
            if (checkpoint != null && every > 0 && step % every == 0) checkpoint(checkpoint);
        }
        return last;
    }

    /** Writes the parameters, optimizer state and step to {@code file} atomically. */
    public void checkpoint(Path file) { Checkpoint.of(this).write(file); }

    public ModelSpec spec() { return spec; }
    public int batch() { return batch; }
    public long seed() { return seed; }
    public long rows() { return rows; }
    /** Global steps done so far. */
    public long steps() { return step; }
    public long batchesPerEpoch() { return batchesPerEpoch; }
    /** The driver's trainer: its parameters are the model's (evaluate or save it; do not step it). */
    public Trainer model() { return driver; }

    /** Unpersists the cached shards. */
    @Override public void close() { shards.unpersist(false); }
}
