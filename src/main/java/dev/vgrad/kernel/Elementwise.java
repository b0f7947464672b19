package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Elementwise add and multiply, and the gradient accumulation that implements fan-out sums. */
public final class Elementwise {
    private Elementwise() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /** y[i] = a[i] + b[i] */
    public static void add(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    /** Scalar twin of {@link #add}. */
    public static void addScalar(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] + b[bOff + i];
    }

    /** y[i] = a[i] * b[i] */
    public static void mul(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
    }

    /** Scalar twin of {@link #mul}. */
    public static void mulScalar(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = a[aOff + i] * b[bOff + i];
    }

    /** y[i] (+)= x[i]: a gradient contribution, copied when it is the first, added otherwise. */
    public static void accumulate(float[] x, int xOff, float[] y, int yOff, int n, boolean accumulate) {
        if (!accumulate) {
            System.arraycopy(x, xOff, y, yOff, n);
            return;
        }
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    /** Scalar twin of {@link #accumulate}. */
    public static void accumulateScalar(float[] x, int xOff, float[] y, int yOff, int n, boolean accumulate) {
        for (int i = 0; i < n; i++) y[yOff + i] = accumulate ? y[yOff + i] + x[xOff + i] : x[xOff + i];
    }

    /** y[i] (+)= a[i] * b[i]: the gradient of a product. */
    public static void mulAccumulate(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n, boolean accumulate) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector p = FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i));
            if (accumulate) p = p.add(FloatVector.fromArray(S, y, yOff + i));
            p.intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) {
            float p = a[aOff + i] * b[bOff + i];
            y[yOff + i] = accumulate ? y[yOff + i] + p : p;
        }
    }

    /** Scalar twin of {@link #mulAccumulate}. */
    public static void mulAccumulateScalar(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int n, boolean accumulate) {
        for (int i = 0; i < n; i++) {
            float p = a[aOff + i] * b[bOff + i];
            y[yOff + i] = accumulate ? y[yOff + i] + p : p;
        }
    }

    /** Sum of squares, sum_i x[i]^2 (telemetry and norms), accumulated in float lanes then double. */
    public static double sumSquares(float[] x, int xOff, int n) {
        int nv = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            acc = v.fma(v, acc);
        }
        double s = Simd.sum(acc);
        // tail
        for (; i < n; i++) s += (double) x[xOff + i] * x[xOff + i];
        return s;
    }

    /** Scalar twin of {@link #sumSquares}. */
    public static double sumSquaresScalar(float[] x, int xOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) x[xOff + i] * x[xOff + i];
        return s;
    }
}
