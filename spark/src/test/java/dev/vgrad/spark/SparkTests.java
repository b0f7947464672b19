package dev.vgrad.spark;

import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.train.Trainer;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The one Spark every test class shares (starting Spark costs seconds): {@code local[2,4]} is two task
 * threads, and up to 4 failures of a task before the job fails, so an injected failure is retried.
 * Bound to the loopback address. Also the single-machine reference loop the distributed trainer must match.
 */
final class SparkTests {
    private SparkTests() {}

    static final String MASTER = "local[2,4]";

    private static SparkSession session;

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master(MASTER).appName("vgrad-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "4")
                    .getOrCreate();
        }
        return session;
    }

    static JavaSparkContext sc() { return JavaSparkContext.fromSparkContext(session().sparkContext()); }

    /** The digits training part (1,258 rows) of the 0.1 / 0.2 split with seed 42, as TrainDigits uses. */
    static Dataset.Split digits() { return Digits.load().split(0.1, 0.2, 42); }

    /**
     * Single-machine training in the documented order: epoch e visits {@code train.shuffled(seed + e)},
     * batch i is its rows [i*B, (i+1)*B) (the last partial). Runs {@code steps} steps of {@code t}
     * starting at global step {@code from}. The local twin of {@link DataParallelTrainer#step}.
     */
    static void localSteps(Trainer t, Dataset train, int batch, long seed, long from, long steps) {
        long perEpoch = (train.rows() + batch - 1) / batch;
        float[] xb = new float[batch * train.features()];
        int[] yb = new int[batch];
        Dataset order = null;
        int orderEpoch = -1;
        for (long s = from; s < from + steps; s++) {
            int epoch = (int) (s / perEpoch);
            if (epoch != orderEpoch) {
                order = train.shuffled(seed + epoch);
                orderEpoch = epoch;
            }
            int lo = (int) ((s % perEpoch) * batch);
            int rows = Math.min(batch, train.rows() - lo);
            System.arraycopy(order.x(), lo * train.features(), xb, 0, rows * train.features());
            System.arraycopy(order.y(), lo, yb, 0, rows);
            t.step(xb, yb, rows);
        }
    }
}
