package dev.vgrad.spark;

import dev.vgrad.io.Dataset;

/**
 * The order of each epoch: {@code Dataset.permutation(n, seed + epoch)}, the same order the
 * single-machine loop trains in. Executors compute it from (n, seed, epoch) and share the inverse
 * (row index -> position) between the partitions of one JVM through a one-entry cache.
 */
final class EpochOrder {
    private EpochOrder() {}

    private record Key(long n, long seed, int epoch) {}

    private record Entry(Key key, int[] inverse) {}

    private static volatile Entry last;

    /** inverse[r] = the position of row r in epoch {@code epoch}'s order. */
    static int[] inverse(long n, long seed, int epoch) {
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("datasets above 2^31 rows are not supported, got " + n);
        Key key = new Key(n, seed, epoch);
        Entry e = last;
        if (e != null && e.key().equals(key)) return e.inverse();
        int[] order = Dataset.permutation((int) n, seed + epoch);
        int[] inv = new int[order.length];
        for (int p = 0; p < order.length; p++) inv[order[p]] = p;
        last = new Entry(key, inv);
        return inv;
    }

    /** Global batches in an epoch of n rows with batch B (the last may be partial). */
    static long batches(long n, int batch) { return (n + batch - 1) / batch; }
}
