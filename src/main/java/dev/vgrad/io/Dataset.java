package dev.vgrad.io;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A labelled dataset in memory: {@code rows} samples of {@code features} floats (row-major in x)
 * with integer labels in [0, classes).
 */
public record Dataset(String name, float[] x, int[] y, int rows, int features, int classes) {
    public Dataset {
        if (x.length != rows * features) {
            throw new IllegalArgumentException(name + ": " + rows + " rows x " + features + " features needs " + rows * features
                    + " floats, got " + x.length);
        }
        if (y.length != rows) throw new IllegalArgumentException(name + ": " + rows + " rows need " + rows + " labels, got " + y.length);
    }

    /** The same samples in an order drawn from {@code seed} (Fisher-Yates). */
    public Dataset shuffled(long seed) {
        int[] perm = permutation(rows, seed);
        return select(perm, 0, rows, name);
    }

    /** Rows [from, to) as a new dataset. */
    public Dataset slice(int from, int to, String part) {
        if (from < 0 || to > rows || from > to) throw new IllegalArgumentException(name + ": bad slice [" + from + ", " + to + ") of " + rows);
        return new Dataset(part, Arrays.copyOfRange(x, from * features, to * features), Arrays.copyOfRange(y, from, to),
                to - from, features, classes);
    }

    /** Rows perm[from..to) as a new dataset. */
    public Dataset select(int[] perm, int from, int to, String part) {
        float[] nx = new float[(to - from) * features];
        int[] ny = new int[to - from];
        for (int i = from; i < to; i++) {
            System.arraycopy(x, perm[i] * features, nx, (i - from) * features, features);
            ny[i - from] = y[perm[i]];
        }
        return new Dataset(part, nx, ny, to - from, features, classes);
    }

    /** Train / validation / test split after a seeded shuffle; fractions of the whole for validation and test. */
    public Split split(double validation, double test, long seed) {
        if (validation < 0 || test < 0 || validation + test >= 1) {
            throw new IllegalArgumentException("validation (" + validation + ") and test (" + test + ") fractions must be >= 0 and sum to < 1");
        }
        int[] perm = permutation(rows, seed);
        int nTest = (int) Math.round(rows * test);
        int nVal = (int) Math.round(rows * validation);
        int nTrain = rows - nTest - nVal;
        return new Split(select(perm, 0, nTrain, name + "/train"), select(perm, nTrain, nTrain + nVal, name + "/validation"),
                select(perm, nTrain + nVal, rows, name + "/test"));
    }

    /** The three parts of a split. */
    public record Split(Dataset train, Dataset validation, Dataset test) {}

    /** A seeded Fisher-Yates permutation of 0..n-1. */
    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
