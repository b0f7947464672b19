package dev.vgrad.spark;

import dev.vgrad.io.Dataset;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * What one synchronous step costs on Spark, and where the time goes: MLP 784-256-256-10 (ReLU, softmax
 * cross-entropy, SGD), random data, 128 rows per partition per step (global batch 128 x partitions),
 * one partition per task thread. For each master it prints steps/s, samples/s and the split of a step
 * into vgrad's kernels (the slowest partition's forward + backward + scaling, timed inside the task),
 * the driver's optimizer update, and the rest: Spark's scheduling, broadcast, result serialization and
 * reduction. A single-machine {@link Trainer} step at batch 128 is the baseline.
 *
 * <p>Run: {@code ./mvnw -B -q -Pspark-bench -pl spark -am package} (README), or
 * {@code SparkTrainBench [steps] [masters...]}, default {@code 40 local[1] local[2]}.
 */
public final class SparkTrainBench {
    private SparkTrainBench() {}

    /** The model; {@code -Dvgrad.bench.model=64-10} measures Spark's fixed cost per step with a tiny one. */
    static final ModelSpec SPEC = ModelSpec.parse(System.getProperty("vgrad.bench.model", "784-256-256-10"));
    static final int PER_PARTITION = 128;

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        List<String> masters = new ArrayList<>();
        for (int i = 1; i < args.length; i++) masters.add(args[i]);
        if (masters.isEmpty()) masters = List.of("local[1]", "local[2]");
        System.out.printf("model %s, %d rows per partition per step, SGD, random data; %d steps after %d warm-up%n", SPEC.text(),
                PER_PARTITION, steps, warmUp(steps));
        baseline(steps);
        for (String master : masters) run(master, steps);
    }

    /** Spark's own code needs a few dozen jobs before the JIT has compiled it: half the measured steps, at least 20. */
    static int warmUp(int steps) { return Math.max(20, steps / 2); }

    static Dataset random(int rows, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * SPEC.features()];
        int[] y = new int[rows];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < rows; i++) y[i] = r.nextInt(SPEC.classes());
        return new Dataset("random", x, y, rows, SPEC.features(), SPEC.classes());
    }

    /** The engine alone: Trainer.step at batch 128 on one thread. */
    static void baseline(int steps) {
        Dataset d = random(PER_PARTITION, 1);
        Trainer t = new Trainer(SPEC.graph(PER_PARTITION), new Optimizer.Sgd(0.01f), 1);
        for (int i = 0; i < warmUp(steps); i++) t.step(d.x(), d.y());
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) t.step(d.x(), d.y());
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "%-10s %7.2f steps/s %9.1f samples/s  (vgrad Trainer.step, batch %d, no Spark)%n", "local", steps / s,
                steps * PER_PARTITION / s, PER_PARTITION);
    }

    static void run(String master, int steps) {
        SparkSession spark = SparkSession.builder().master(master).appName("vgrad-spark-bench").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            int partitions = sc.defaultParallelism();
            int batch = PER_PARTITION * partitions;
            Dataset d = random(batch * 8, 2);
            try (DataParallelTrainer t = new DataParallelTrainer(sc, Shards.of(sc, d, partitions), d.rows(), SPEC, batch,
                    new Optimizer.Sgd(0.01f), 3)) {
                for (int i = 0; i < warmUp(steps); i++) t.step();
                long wall = 0, kernel = 0, kernelSum = 0, update = 0, merge = 0, rows = 0, bcast = 0, fetch = 0, job = 0;
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    DataParallelTrainer.StepStats s = t.step();
                    wall += s.wallNanos();
                    kernel += s.kernelMaxNanos();
                    kernelSum += s.kernelNanos();
                    update += s.updateNanos();
                    merge += s.mergeNanos();
                    bcast += s.broadcastNanos();
                    fetch += s.fetchMaxNanos();
                    job += s.jobNanos();
                    rows += s.rows();
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "%-10s %7.2f steps/s %9.1f samples/s  %d partitions x %d rows; per step %.1f ms: "
                                + "vgrad kernels %.1f ms (%.0f%%, slowest partition; %.1f ms summed), driver update %.1f ms (%.0f%%), "
                                + "Spark (schedule, broadcast, serialize, reduce) %.1f ms (%.0f%%), of it merging buffers %.2f ms, "
                                + "broadcast create+destroy %.1f ms, task wait for parameters %.1f ms, job outside the kernels %.1f ms%n",
                        master, steps / sec, rows / sec, partitions, PER_PARTITION, wall / 1e6 / steps, kernel / 1e6 / steps,
                        100.0 * kernel / wall, kernelSum / 1e6 / steps, update / 1e6 / steps, 100.0 * update / wall,
                        (wall - kernel - update) / 1e6 / steps, 100.0 * (wall - kernel - update) / wall, merge / 1e6 / steps,
                        bcast / 1e6 / steps, fetch / 1e6 / steps, (job - kernel) / 1e6 / steps);
            }
        } finally {
            spark.stop();
        }
    }
}
