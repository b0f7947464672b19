package dev.vgrad.spark;

import dev.vgrad.io.Dataset;
import java.io.Serializable;
import java.util.Arrays;

/**
 * The rows one Spark partition holds, packed into flat arrays: {@code x} (rows, features) row-major,
 * integer labels {@code y}, and each row's global index {@code index} in the dataset (0..n-1).
 *
 * <p><b>How a global batch is split.</b> Epoch {@code e} visits the dataset in the order
 * {@code order = Dataset.permutation(n, seed + e)} (exactly the order the single-machine loop uses:
 * {@code train.shuffled(seed + e)}). Global batch {@code i} of the epoch is positions
 * {@code [i*B, min((i+1)*B, n))} of that order; the last one may be partial. A row with global index
 * {@code r} sits at position {@code inverse(order)[r]}; each partition takes the rows of the batch's
 * position range that it holds, in position order. Every row belongs to exactly one partition, so the
 * partitions' shares of a batch are disjoint and together are the whole batch.
 *
 * <p>The per-epoch positions are computed on the executor from (n, seed, epoch) alone and kept in
 * transient fields: Spark caches the shard deserialized, so later steps of the epoch reuse them, and a
 * shard recomputed after a failure rebuilds them identically.
 */
public final class Shard implements Serializable {
    private static final long serialVersionUID = 1L;

    final int partition;
    final int features;
    final float[] x;
    final int[] y;
    final long[] index;

    // per-epoch view, rebuilt on demand: local rows sorted by their position in the epoch's order
    private transient long viewKey = Long.MIN_VALUE;
    private transient int[] byPosition;
    private transient int[] positions;

    public Shard(int partition, int features, float[] x, int[] y, long[] index) {
        if (x.length != y.length * features || index.length != y.length) {
            throw new IllegalArgumentException("shard " + partition + ": " + y.length + " labels, " + index.length + " indices and "
                    + x.length + " floats do not make rows of " + features + " features");
        }
        this.partition = partition;
        this.features = features;
        this.x = x;
        this.y = y;
        this.index = index;
    }

    public int rows() { return y.length; }

    /**
     * The local rows at positions [from, to) of epoch {@code epoch}'s order, in position order: writes
     * their features into {@code xOut} and labels into {@code yOut} and returns how many there are.
     */
    synchronized int gather(long n, long seed, int epoch, long from, long to, float[] xOut, int[] yOut) {
        view(n, seed, epoch);
        int lo = lowerBound(positions, from);
        int hi = lowerBound(positions, to);
        for (int k = lo; k < hi; k++) {
            int r = byPosition[k];
            System.arraycopy(x, r * features, xOut, (k - lo) * features, features);
            yOut[k - lo] = y[r];
        }
        return hi - lo;
    }

    private void view(long n, long seed, int epoch) {
        long key = seed + epoch;
        if (byPosition != null && viewKey == key) return;
        int[] inverse = EpochOrder.inverse(n, seed, epoch);
        int m = rows();
        long[] packed = new long[m];  // (position << 32 | local row): sorting it sorts rows by position
        for (int r = 0; r < m; r++) {
            long g = index[r];
            if (g < 0 || g >= n) throw new IllegalStateException("shard " + partition + ": row index " + g + " outside [0, " + n + ")");
            packed[r] = ((long) inverse[(int) g] << 32) | r;
        }
        Arrays.sort(packed);
        int[] rowsSorted = new int[m];
        int[] pos = new int[m];
        for (int k = 0; k < m; k++) {
            rowsSorted[k] = (int) packed[k];
            pos[k] = (int) (packed[k] >>> 32);
        }
        byPosition = rowsSorted;
        positions = pos;
        viewKey = key;
    }

    private static int lowerBound(int[] a, long v) {
        int lo = 0, hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < v) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /** Splits an in-memory dataset into {@code parts} shards of contiguous global indices (for tests and benchmarks). */
    public static Shard[] split(Dataset d, int parts) {
        Shard[] s = new Shard[parts];
        for (int p = 0; p < parts; p++) s[p] = part(d, p, parts);
        return s;
    }

    /** Shard {@code p} of {@link #split}: rows [n p / parts, n (p + 1) / parts). */
    static Shard part(Dataset d, int p, int parts) {
        int from = (int) ((long) d.rows() * p / parts), to = (int) ((long) d.rows() * (p + 1) / parts);
        long[] idx = new long[to - from];
        for (int i = 0; i < idx.length; i++) idx[i] = from + i;
        return new Shard(p, d.features(), Arrays.copyOfRange(d.x(), from * d.features(), to * d.features()),
                Arrays.copyOfRange(d.y(), from, to), idx);
    }
}
