package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Row-wise softmax and log-softmax over (m, n) matrices, max-subtracted for stability. */
public final class Softmax {
    private Softmax() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /** y[i,j] = exp(x[i,j] - max_i) / sum_j exp(x[i,j] - max_i) */
    public static void forward(int m, int n, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * n, yi = yOff + i * n;
            float max = rowMax(x, xi, n);
            float sum = Exp.exp(x, xi, max, 1f, y, yi, n);
            scale(y, yi, n, 1f / sum);
        }
    }

    /** Scalar twin of {@link #forward}. */
    public static void forwardScalar(int m, int n, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * n, yi = yOff + i * n;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, x[xi + j]);
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                y[yi + j] = (float) Math.exp(x[xi + j] - max);
                sum += y[yi + j];
            }
            float inv = 1f / sum;
            for (int j = 0; j < n; j++) y[yi + j] *= inv;
        }
    }

    /** y[i,j] = x[i,j] - max_i - log(sum_j exp(x[i,j] - max_i)) */
    public static void logForward(int m, int n, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * n, yi = yOff + i * n;
            float max = rowMax(x, xi, n);
            float sum = Exp.exp(x, xi, max, 1f, y, yi, n);
            float shift = max + (float) Math.log(sum);
            for (int j = 0; j < n; j++) y[yi + j] = x[xi + j] - shift;
        }
    }

    /** Scalar twin of {@link #logForward}. */
    public static void logForwardScalar(int m, int n, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < m; i++) {
            int xi = xOff + i * n, yi = yOff + i * n;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, x[xi + j]);
            float sum = 0f;
            for (int j = 0; j < n; j++) sum += (float) Math.exp(x[xi + j] - max);
            float shift = max + (float) Math.log(sum);
            for (int j = 0; j < n; j++) y[yi + j] = x[xi + j] - shift;
        }
    }

    /** dx[i,j] (+)= y[i,j] (dy[i,j] - sum_j dy[i,j] y[i,j]) */
    public static void backward(int m, int n, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, boolean accumulate) {
        int nv = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            int yi = yOff + i * n, di = dyOff + i * n, xi = dxOff + i * n;
            FloatVector acc = FloatVector.zero(S);
            int j = 0;
            // the row loops run only for rows of a vector or more: the first operation on each loaded vector is a
            // lanewise call (see rowMax), whose result's class C2 then knows for the ones after it
            for (; j < nv; j += S.length()) {
                acc = FloatVector.fromArray(S, dy, di + j).lanewise(VectorOperators.FMA, FloatVector.fromArray(S, y, yi + j), acc);
            }
            // fixed-order lane sum, written out here: a vector passed to a call C2 does not inline is boxed
            if (Simd.LANES > 8) acc = acc.add(acc.rearrange(Simd.R8));
            if (Simd.LANES > 4) acc = acc.add(acc.rearrange(Simd.R4));
            if (Simd.LANES > 2) acc = acc.add(acc.rearrange(Simd.R2));
            if (Simd.LANES > 1) acc = acc.add(acc.rearrange(Simd.R1));
            float dot = acc.lane(0);
            // tail
            for (; j < n; j++) dot += dy[di + j] * y[yi + j];
            j = 0;
            FloatVector dotv = FloatVector.broadcast(S, dot);
            for (; j < nv; j += S.length()) {
                FloatVector g = FloatVector.fromArray(S, dy, di + j).lanewise(VectorOperators.SUB, dotv).mul(FloatVector.fromArray(S, y, yi + j));
                if (accumulate) g = g.add(FloatVector.fromArray(S, dx, xi + j));
                g.intoArray(dx, xi + j);
            }
            // tail
            for (; j < n; j++) {
                float g = (dy[di + j] - dot) * y[yi + j];
                dx[xi + j] = accumulate ? dx[xi + j] + g : g;
            }
        }
    }

    /** Scalar twin of {@link #backward}. */
    public static void backwardScalar(int m, int n, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            float dot = 0f;
            for (int j = 0; j < n; j++) dot += dy[dyOff + i * n + j] * y[yOff + i * n + j];
            for (int j = 0; j < n; j++) {
                float g = (dy[dyOff + i * n + j] - dot) * y[yOff + i * n + j];
                dx[dxOff + i * n + j] = accumulate ? dx[dxOff + i * n + j] + g : g;
            }
        }
    }

    /** max_j x[off + j] for j < n (lanewise(MAX), not max(v): see {@link Simd#FLOATS} on profiles). */
    static float rowMax(float[] x, int off, int n) {
        int nv = S.loopBound(n);
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < nv; j += S.length()) mv = mv.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, x, off + j));
        float max = mv.reduceLanes(VectorOperators.MAX);
        // tail
        for (; j < n; j++) max = Math.max(max, x[off + j]);
        return max;
    }

    /** y[off + j] *= s for j < n (lanewise(MUL), as in {@link #rowMax}). */
    static void scale(float[] y, int off, int n, float s) {
        int nv = S.loopBound(n);
        FloatVector sv = FloatVector.broadcast(S, s);
        int j = 0;
        for (; j < nv; j += S.length()) FloatVector.fromArray(S, y, off + j).lanewise(VectorOperators.MUL, sv).intoArray(y, off + j);
        // tail
        for (; j < n; j++) y[off + j] *= s;
    }
}
