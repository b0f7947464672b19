package dev.vgrad.props;

import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Simd;
import dev.vgrad.props.check.Gen;
import java.util.SplittableRandom;

/**
 * The generators every property shares: sizes around the lane count, shapes, and data of a drawn
 * shape. Sizes shrink towards 1; data is drawn from a seed after the shape (a shape first, then data
 * of that shape), so a shrunk case keeps its shape small and readable.
 */
public final class Gens {
    private Gens() {}

    /** Float lanes per vector on this machine (16 with AVX-512). */
    public static final int LANES = Simd.LANES;

    /** Sizes that exercise the vector loop and its tail: 1, lanes-1, lanes, lanes+1 and primes. */
    private static final Integer[] SPECIAL = {1, 2, 3, LANES - 1, LANES, LANES + 1, 5, 7, 11, 13, 2 * LANES - 1, 2 * LANES + 1, 31, 37};

    /** A size in [1, max]: half the time one of the special sizes (when it fits), else uniform. */
    public static Gen<Integer> size(int max) {
        return s -> {
            if (s.bool()) {
                int v = s.oneOf(SPECIAL);
                if (v >= 1 && v <= max) return v;
            }
            return s.between(1, max);
        };
    }

    /** A batch (compiled rows) and the rows actually run (a partial last batch when rows < batch). */
    public record Rows(int batch, int rows) {
        @Override
        public String toString() { return rows == batch ? "batch " + batch : "batch " + batch + ", running " + rows + " rows"; }
    }

    public static Gen<Rows> rows(int max) {
        return size(max).flatMap(b -> s -> new Rows(b, s.bool() ? s.between(1, b) : b));
    }

    /** Any activation, identity included. */
    public static Gen<Activation> activation() { return s -> s.oneOf(Activation.values()); }

    /** A leaky-relu slope in [0, 0.5), a quarter of the time exactly 0 (where y = -0.0 for x < 0). */
    public static Gen<Float> alpha() { return s -> s.between(0, 3) == 0 ? 0f : (float) s.uniform(0, 0.5); }

    /** A data stream for a drawn shape. */
    public static Gen<Data> data() { return s -> new Data(s.seed()); }

    /** Bulk values from a seed: arrays of a shape drawn before. */
    public static final class Data {
        private final long seed;
        private final SplittableRandom r;

        Data(long seed) {
            this.seed = seed;
            this.r = new SplittableRandom(seed);
        }

        public SplittableRandom random() { return r; }

        /** A fresh stream from the same seed: the same values again. */
        public Data fork() { return new Data(seed); }

        /** n values uniform in [-scale, scale). */
        public float[] uniform(int n, double scale) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) ((2 * r.nextDouble() - 1) * scale);
            return a;
        }

        /** n values uniform in [lo, hi). */
        public float[] between(int n, double lo, double hi) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * r.nextDouble());
            return a;
        }

        /** n values with |v| in [gap, scale): away from a kink at 0. */
        public float[] awayFromZero(int n, double gap, double scale) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                double m = gap + (scale - gap) * r.nextDouble();
                a[i] = (float) (r.nextBoolean() ? m : -m);
            }
            return a;
        }

        /** n class labels in [0, classes). */
        public int[] labels(int n, int classes) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(classes);
            return a;
        }

        /** n doubles uniform in [-1, 1): directions for the inner-product checks. */
        public double[] direction(int n) {
            double[] a = new double[n];
            for (int i = 0; i < n; i++) a[i] = 2 * r.nextDouble() - 1;
            return a;
        }

        @Override
        public String toString() { return "data seed " + seed; }
    }

    /** A whole graph: depth 1-8, widths 1-40, every layer kind, activation and loss. */
    public static Gen<GraphCase> graphs() { return graphs(8, 40); }

    public static Gen<GraphCase> graphs(int maxDepth, int maxWidth) { return graphs(rows(6), size(maxWidth), maxDepth); }

    /**
     * Graphs wide enough for runs of independent steps to run side by side on 2+ threads (a product of a quarter
     * MFLOP or more in each lane, {@code Plan.lane}): batch 32-96 (half the time running fewer rows), widths 24-96,
     * depth 1-5.
     */
    public static Gen<GraphCase> wideGraphs() {
        return graphs(s -> {
            int b = s.between(32, 96);
            return new Rows(b, s.bool() ? s.between(1, b) : b);
        }, s -> s.between(24, 96), 5);
    }

    /**
     * Graphs whose products are big enough to split over 2-3 threads on every path: batch 1-16 (the small-M path) or
     * 128-300, widths 100-300, depth 1-3, an output of 1-16 (the narrow dot and outer products, and a short-k dx).
     */
    public static Gen<GraphCase> splitGraphs() {
        return graphs(s -> {
            int b = s.bool() ? s.between(1, 16) : s.between(128, 300);
            return new Rows(b, s.bool() ? s.between(1, b) : b);
        }, s -> s.between(100, 300), 3, s -> s.between(1, 16));
    }

    private static Gen<GraphCase> graphs(Gen<Rows> rowsGen, Gen<Integer> width, int maxDepth) {
        return graphs(rowsGen, width, maxDepth, size(10));
    }

    private static Gen<GraphCase> graphs(Gen<Rows> rowsGen, Gen<Integer> width, int maxDepth, Gen<Integer> outWidth) {
        return s -> {
            Rows rows = rowsGen.draw(s);
            int in = width.draw(s);
            boolean inputGrad = s.bool();
            int depth = s.between(1, maxDepth);
            java.util.List<GraphCase.Layer> layers = new java.util.ArrayList<>();
            for (int i = 0; i < depth; i++) {
                GraphCase.Kind kind = s.oneOf(GraphCase.Kind.values());
                layers.add(new GraphCase.Layer(kind, width.draw(s), activation().draw(s), activation().draw(s), alpha().draw(s)));
            }
            int out = outWidth.draw(s);
            GraphCase.LossKind loss = s.oneOf(GraphCase.LossKind.values());
            return new GraphCase(rows, in, inputGrad, java.util.List.copyOf(layers), out, loss, data().draw(s));
        };
    }
}
