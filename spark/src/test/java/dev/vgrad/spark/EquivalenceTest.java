package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.io.Dataset;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.junit.jupiter.api.Test;

/**
 * Distributed vs single-machine: the same model, seed, global batch and epoch order give the same
 * gradients and parameters within the float-summation bound derived in the README:
 * |g_spark - g_local| <= 2 (B + 2) u G_abs per element, u = 2^-24, G_abs = (1/B) sum_r |g_r| over the
 * per-row gradients g_r of the batch.
 */
class EquivalenceTest {
    static final double U = Math.ulp(1.0f) / 2;  // unit roundoff of float, 2^-24
    static final ModelSpec SPEC = ModelSpec.mlp(64, 10, 32, 16);

    /** The per-element bound 2 (B + 2) u G_abs for the batch rows [lo, lo+rows) of the epoch order at params p. */
    static double[] bound(Dataset order, int lo, int rows, float[] p) {
        Trainer one = new Trainer(SPEC.graph(1), new Optimizer.Sgd(1f), 0);
        System.arraycopy(p, 0, one.params(), 0, p.length);
        double[] abs = new double[p.length];
        float[] x = new float[order.features()];
        for (int r = lo; r < lo + rows; r++) {
            System.arraycopy(order.x(), r * order.features(), x, 0, order.features());
            one.gradients(x, new int[] {order.y()[r]}, 1);
            float[] g = one.grads();
            for (int i = 0; i < g.length; i++) abs[i] += Math.abs(g[i]);
        }
        for (int i = 0; i < abs.length; i++) abs[i] = 2.0 * (rows + 2) * U * abs[i] / rows;
        return abs;
    }

    /**
     * Partitions whose shares of the first global batch (B = 128) are 64, 32, 16 and 16 rows: with B and
     * every share a power of two, a partition's 1/m loss scale differs from the local 1/B by an exact power
     * of two, so each row's gradient term is the local one exactly rescaled and the only difference left is
     * the order of the sum over rows, which the bound covers.
     */
    static JavaRDD<Shard> powerOfTwoShares(Dataset train, long seed) {
        int[] order = Dataset.permutation(train.rows(), seed);
        int[] cut = {0, 64, 96, 112, 128};
        List<List<Integer>> held = new ArrayList<>();
        for (int p = 0; p < 4; p++) held.add(new ArrayList<>());
        for (int pos = 0; pos < order.length; pos++) {
            int part = pos < 128 ? (pos < 64 ? 0 : pos < 96 ? 1 : pos < 112 ? 2 : 3) : pos % 4;
            held.get(part).add(order[pos]);
        }
        List<Shard> shards = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            List<Integer> rows = held.get(p);
            float[] x = new float[rows.size() * train.features()];
            int[] y = new int[rows.size()];
            long[] idx = new long[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                int r = rows.get(i);
                System.arraycopy(train.x(), r * train.features(), x, i * train.features(), train.features());
                y[i] = train.y()[r];
                idx[i] = r;
            }
            shards.add(new Shard(p, train.features(), x, y, idx));
        }
        return SparkTests.sc().parallelize(shards, 4);
    }

    @Test
    void firstStepGradientWithinTheSummationBound() {
        Dataset train = SparkTests.digits().train();
        int batch = 128;
        long seed = 7;
        try (DataParallelTrainer spark = new DataParallelTrainer(SparkTests.sc(), powerOfTwoShares(train, seed), train.rows(), SPEC,
                batch, new Optimizer.Sgd(0.1f), seed)) {
            Trainer local = new Trainer(SPEC.graph(batch), new Optimizer.Sgd(0.1f), seed);
            float[] p0 = local.params().clone();
            assertEquals(0, Arrays.compare(p0, spark.model().params()), "same initial parameters from the same seed");
            double[] bound = bound(train.shuffled(seed), 0, batch, p0);
            SparkTests.localSteps(local, train, batch, seed, 0, 1);
            spark.step();
            float[] gl = local.grads(), gs = spark.model().grads();
            double worst = 0;
            int nonzero = 0, differ = 0;
            for (int i = 0; i < gl.length; i++) {
                double d = Math.abs((double) gs[i] - gl[i]);
                assertTrue(d <= bound[i], "gradient " + i + ": |" + gs[i] + " - " + gl[i] + "| = " + d + " > bound " + bound[i]);
                if (bound[i] > 0) worst = Math.max(worst, d / bound[i]);
                if (gl[i] != 0) nonzero++;
                if (gl[i] != gs[i]) differ++;
            }
            assertTrue(nonzero > gl.length / 2, "a real gradient: " + nonzero + " of " + gl.length + " nonzero");
            System.out.printf("first step: %d of %d gradients differ; largest |g_spark - g_local| / bound = %.4f%n", differ, gl.length, worst);
        }
    }

    /**
     * Hand-worked: terms 1, 2^-24, 2^-24 (B = 3). Locally in float, 1 + 2^-24 rounds to 1 (a tie, to even)
     * and again, so the sum is 1. Split {1} | {2^-24, 2^-24}: the second partition sums to 2^-23 exactly,
     * the double merge gives 1 + 2^-23, which is a float. They differ by 2^-23, within the bound
     * 2 (B + 2) u G_abs = 10 * 2^-24 * (1 + 2^-23).
     */
    @Test
    void summationOrderByHand() {
        float t = 0x1p-24f;
        float local = (1f + t) + t;
        assertEquals(1f, local);
        double[] partitionSums = {1f, t + t};
        float spark = (float) (partitionSums[0] + partitionSums[1]);
        assertEquals(1f + 0x1p-23f, spark);
        double bound = 2.0 * (3 + 2) * U * (1 + 2.0 * t);
        assertEquals(0x1p-23, spark - local);
        assertTrue(spark - local <= bound);
    }

    @Test
    void parametersAfterStepsAcrossAnEpochBoundaryMatchLocalSgdAndAdam() {
        Dataset train = SparkTests.digits().train();
        int batch = 256;  // 1,258 rows: 5 batches per epoch, the 5th of 234 rows; 8 steps cross into epoch 1
        long seed = 11;
        long steps = 8;
        for (Optimizer opt : new Optimizer[] {new Optimizer.Sgd(0.05f, 0.9f, false, 0f), new Optimizer.Adam(1e-3f)}) {
            try (DataParallelTrainer spark = new DataParallelTrainer(SparkTests.sc(), Shards.of(SparkTests.sc(), train, 3), train.rows(), SPEC,
                    batch, opt, seed)) {
                Trainer local = new Trainer(SPEC.graph(batch), opt, seed);
                SparkTests.localSteps(local, train, batch, seed, 0, steps);
                for (int s = 0; s < steps; s++) spark.step();
                assertEquals(steps, spark.steps());
                float[] pl = local.params(), ps = spark.model().params();
                double worst = 0, moved = 0;
                float[] p0 = new Trainer(SPEC.graph(batch), opt, seed).params();
                for (int i = 0; i < pl.length; i++) {
                    worst = Math.max(worst, Math.abs((double) ps[i] - pl[i]));
                    moved = Math.max(moved, Math.abs((double) pl[i] - p0[i]));
                }
                System.out.printf("%s, %d steps: largest |p_spark - p_local| = %.3g (largest move from init %.3g)%n", opt, steps, worst, moved);
                assertTrue(moved > 1e-3, "training moved the parameters");
                assertTrue(worst <= 1e-6, opt + ": parameters differ by " + worst);
            }
        }
    }
}
