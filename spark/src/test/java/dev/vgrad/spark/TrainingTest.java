package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.io.Dataset;
import dev.vgrad.train.Evaluation;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import org.junit.jupiter.api.Test;

/** Training digits across 4 partitions reaches the accuracy of single-machine training; plans are compiled once per task slot. */
class TrainingTest {
    @Test
    void fourPartitionsReachTheLocalTestAccuracyBand() {
        Dataset.Split split = SparkTests.digits();
        Dataset train = split.train();
        ModelSpec spec = ModelSpec.mlp(64, 10, 64);
        int batch = 128;
        long seed = 42;
        long steps = 10 * EpochOrder.batches(train.rows(), batch);  // 10 epochs of 10 steps (1,258 rows)
        Trainer local = new Trainer(spec.graph(batch), new Optimizer.Adam(1e-2f), seed);
        SparkTests.localSteps(local, train, batch, seed, 0, steps);
        double localAcc = new Evaluation(local).run(split.test()).accuracy();
        try (DataParallelTrainer spark = new DataParallelTrainer(SparkTests.sc(), Shards.of(SparkTests.sc(), train, 4), train.rows(), spec,
                batch, new Optimizer.Adam(1e-2f), seed)) {
            spark.train(steps, null, 0);
            long compiled = WorkerPool.compiled(spec, batch);
            assertTrue(compiled >= 1 && compiled <= 2, compiled + " plans compiled for " + steps * 4
                    + " partition-steps: at most one per task thread of local[2]");
            double sparkAcc = new Evaluation(spark.model()).run(split.test()).accuracy();
            System.out.printf("digits test accuracy after %d steps: local %.4f, spark (4 partitions) %.4f%n", steps, localAcc, sparkAcc);
            assertTrue(localAcc >= 0.94, "local accuracy " + localAcc);
            assertTrue(sparkAcc >= 0.94, "spark accuracy " + sparkAcc);
            assertTrue(Math.abs(sparkAcc - localAcc) <= 0.01, "spark " + sparkAcc + " vs local " + localAcc);
        }
    }
}
