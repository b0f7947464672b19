package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Init;
import dev.vgrad.io.Dataset;
import dev.vgrad.train.Optimizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The batch split without Spark: every global batch is the union of the partitions' shares, in position order. */
class ShardTest {
    /** rows features 3, x[r] = (r, r + 0.5, -r), y = r % 4. */
    static Dataset rows(int n) {
        float[] x = new float[n * 3];
        int[] y = new int[n];
        for (int r = 0; r < n; r++) {
            x[3 * r] = r;
            x[3 * r + 1] = r + 0.5f;
            x[3 * r + 2] = -r;
            y[r] = r % 4;
        }
        return new Dataset("rows", x, y, n, 3, 4);
    }

    @Test
    void sharesOfEveryBatchAreDisjointAndMakeTheBatch() {
        for (int n : new int[] {1, 15, 16, 17, 31, 97}) {
            for (int parts : new int[] {1, 2, 3, 4}) {
                if (parts > n) continue;
                for (int batch : new int[] {1, 7, 16, 17}) {
                    Dataset d = rows(n);
                    Shard[] shards = Shard.split(d, parts);
                    long seed = 3;
                    for (int epoch = 0; epoch < 2; epoch++) {
                        Dataset order = d.shuffled(seed + epoch);
                        for (long from = 0; from < n; from += batch) {
                            long to = Math.min(from + batch, n);
                            float[] xs = new float[batch * 3];
                            int[] ys = new int[batch];
                            int got = 0;
                            // the shares, concatenated, hold exactly the batch's rows
                            java.util.Set<Integer> seen = new java.util.TreeSet<>();
                            for (Shard s : shards) {
                                int m = s.gather(n, seed, epoch, from, to, xs, ys);
                                for (int k = 0; k < m; k++) {
                                    assertEquals(ys[k], ((int) xs[3 * k]) % 4, "label travels with its row");
                                    seen.add((int) xs[3 * k]);
                                }
                                got += m;
                            }
                            assertEquals(to - from, got, "n " + n + ", parts " + parts + ", batch " + batch + ", rows [" + from + ", " + to + ")");
                            java.util.Set<Integer> want = new java.util.TreeSet<>();
                            for (long p = from; p < to; p++) want.add((int) order.x()[(int) (3 * p)]);
                            assertEquals(want, seen);
                        }
                    }
                }
            }
        }
    }

    /** Hand-worked: 4 rows in 2 shards {0,1} {2,3}; the seed-3 order of epoch 0 is computed by hand from Dataset.permutation. */
    @Test
    void aPartitionTakesItsRowsInPositionOrder() {
        Dataset d = rows(4);
        Shard[] s = Shard.split(d, 2);
        int[] order = Dataset.permutation(4, 3);  // position -> row
        float[] x = new float[12];
        int[] y = new int[4];
        int m = s[0].gather(4, 3, 0, 0, 4, x, y);
        assertEquals(2, m);
        // shard 0 holds rows 0 and 1: they come out in the order they appear in `order`
        int first = -1, second = -1;
        for (int r : order) {
            if (r <= 1 && first < 0) first = r;
            else if (r <= 1) second = r;
        }
        assertArrayEquals(new float[] {first, first + 0.5f, -first, second, second + 0.5f, -second}, java.util.Arrays.copyOf(x, 6));
    }

    @Test
    void modelAndOptimizerTextRoundTrip() {
        ModelSpec m = new ModelSpec(784, List.of(256, 256), 10, Activation.GELU, Init.GLOROT_NORMAL);
        assertEquals("784-256-256-10 gelu glorot-normal", m.text());
        assertEquals(m, ModelSpec.parse(m.text()));
        assertEquals(ModelSpec.mlp(64, 10), ModelSpec.parse("64-10"));
        for (Optimizer o : new Optimizer[] {new Optimizer.Sgd(0.1f, 0.9f, true, 1e-4f), new Optimizer.Adam(3e-4f),
                new Optimizer.AdamW(1e-3f, 0.8f, 0.99f, 1e-7f, 0.05f)}) {
            assertEquals(o, Optimizers.parse(Optimizers.text(o)));
        }
        assertEquals(new Optimizer.Adam(0.01f), Optimizers.parse("adam 0.01"));
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("64"));
        assertThrows(IllegalArgumentException.class, () -> Optimizers.parse("rmsprop 0.1"));
    }
}
