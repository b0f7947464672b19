package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Reductions over an activation buffer, for training telemetry: sums, saturation counts, column maxima. */
public final class Reductions {
    private Reductions() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /** sum_i x[i] (per-lane float sums, reduced once) */
    public static double sum(float[] x, int xOff, int n) {
        int nv = S.loopBound(n);
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < nv; i += S.length()) acc = acc.add(FloatVector.fromArray(S, x, xOff + i));
        double s = acc.reduceLanes(VectorOperators.ADD);
        // tail
        for (; i < n; i++) s += x[xOff + i];
        return s;
    }

    /** Scalar twin of {@link #sum}. */
    public static double sumScalar(float[] x, int xOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[xOff + i];
        return s;
    }

    /**
     * #{i : x[i] &lt; lo or x[i] &gt; hi}. A plain loop on purpose: the vector form (compare, or, trueCount)
     * boxed its masks once inlined into a training step under JMH (17 KB per sampled step of
     * TrainStepBench), and this runs once per layer per sampled step.
     */
    public static int countOutside(float[] x, int xOff, int n, float lo, float hi) {
        int c = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            if (v < lo || v > hi) c++;
        }
        return c;
    }

    /** out[j] = max_i x[i, j] over the (m, n) matrix x (lanewise(MAX), not max(v): see {@link Simd#FLOATS} on profiles). */
    public static void colMax(int m, int n, float[] x, int xOff, float[] out, int outOff) {
        System.arraycopy(x, xOff, out, outOff, n);
        int nv = S.loopBound(n);
        for (int i = 1; i < m; i++) {
            int xi = xOff + i * n;
            int j = 0;
            for (; j < nv; j += S.length()) {
                FloatVector.fromArray(S, x, xi + j).lanewise(VectorOperators.MAX, FloatVector.fromArray(S, out, outOff + j)).intoArray(out, outOff + j);
            }
            // tail
            for (; j < n; j++) out[outOff + j] = Math.max(out[outOff + j], x[xi + j]);
        }
    }

    /** Scalar twin of {@link #colMax}. */
    public static void colMaxScalar(int m, int n, float[] x, int xOff, float[] out, int outOff) {
        for (int j = 0; j < n; j++) {
            float mx = x[xOff + j];
            for (int i = 1; i < m; i++) mx = Math.max(mx, x[xOff + i * n + j]);
            out[outOff + j] = mx;
        }
    }
}
