package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Row-broadcast bias: the dense layer's fused epilogue and the bias gradient. */
public final class Bias {
    private Bias() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /**
     * y[i,j] = act(y[i,j] + b[j]) row by row while the row is in L1; when {@code z} is not null the
     * pre-activation y[i,j] + b[j] is also stored there (GELU's backward needs it).
     */
    public static void biasActivation(int m, int n, float[] b, int bOff, Activation act, float alpha,
                                      float[] y, int yOff, float[] z, int zOff) {
        int nv = S.loopBound(n);
        boolean fuseRelu = act == Activation.RELU && z == null; // the common case, in the same pass
        for (int i = 0; i < m; i++) {
            int yi = yOff + i * n;
            int j = 0;
            for (; j < nv; j += S.length()) {
                FloatVector pre = FloatVector.fromArray(S, y, yi + j).add(FloatVector.fromArray(S, b, bOff + j));
                if (fuseRelu) pre = pre.max(0f);
                pre.intoArray(y, yi + j);
            }
            // tail
            for (; j < n; j++) {
                float pre = y[yi + j] + b[bOff + j];
                y[yi + j] = fuseRelu ? Math.max(pre, 0f) : pre;
            }
            if (z != null) System.arraycopy(y, yi, z, zOff + i * n, n);
            if (!fuseRelu && act != Activation.IDENTITY) Activations.forward(act, alpha, y, yi, y, yi, n);
        }
    }

    /** Scalar twin of {@link #biasActivation}. */
    public static void biasActivationScalar(int m, int n, float[] b, int bOff, Activation act, float alpha,
                                            float[] y, int yOff, float[] z, int zOff) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float pre = y[yOff + i * n + j] + b[bOff + j];
                if (z != null) z[zOff + i * n + j] = pre;
                y[yOff + i * n + j] = Activations.scalar(act, alpha, pre);
            }
        }
    }

    /** db[j] (+)= sum_i dy[i,j] over the (m, n) gradient. */
    public static void colSum(int m, int n, float[] dy, int dyOff, float[] db, int dbOff, boolean accumulate) {
        if (!accumulate) java.util.Arrays.fill(db, dbOff, dbOff + n, 0f);
        int nv = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            int di = dyOff + i * n;
            int j = 0;
            for (; j < nv; j += S.length()) {
                FloatVector.fromArray(S, dy, di + j).add(FloatVector.fromArray(S, db, dbOff + j)).intoArray(db, dbOff + j);
            }
            // tail
            for (; j < n; j++) db[dbOff + j] += dy[di + j];
        }
    }

    /** Scalar twin of {@link #colSum}. */
    public static void colSumScalar(int m, int n, float[] dy, int dyOff, float[] db, int dbOff, boolean accumulate) {
        for (int j = 0; j < n; j++) {
            float s = accumulate ? db[dbOff + j] : 0f;
            for (int i = 0; i < m; i++) s += dy[dyOff + i * n + j];
            db[dbOff + j] = s;
        }
    }
}
