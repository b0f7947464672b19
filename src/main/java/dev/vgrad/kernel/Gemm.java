package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products in the three forms backpropagation needs. All matrices are dense row-major
 * with no padding; {@code accumulate} adds into C (beta = 1) instead of overwriting it (beta = 0).
 * Each vector kernel has a scalar twin with the same signature, the tests' oracle.
 */
public final class Gemm {
    private Gemm() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /** C[m,n] (+)= A[m,k] · B[k,n] */
    public static void nn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        int nv = S.loopBound(n);
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * n;
            if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
            int ai = aOff + i * k;
            // rank-1 updates of row i of C by row p of B
            for (int p = 0; p < k; p++) {
                float aip = a[ai + p];
                FloatVector av = FloatVector.broadcast(S, aip);
                int bp = bOff + p * n;
                int j = 0;
                for (; j < nv; j += S.length()) {
                    FloatVector cv = FloatVector.fromArray(S, c, ci + j);
                    FloatVector.fromArray(S, b, bp + j).fma(av, cv).intoArray(c, ci + j);
                }
                // tail
                for (; j < n; j++) c[ci + j] = Math.fma(aip, b[bp + j], c[ci + j]);
            }
        }
    }

    /** C[m,n] (+)= A[m,k] · B[k,n], scalar twin of {@link #nn}. */
    public static void nnScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + p * n + j];
                c[cOff + i * n + j] = accumulate ? c[cOff + i * n + j] + s : s;
            }
        }
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ */
    public static void nt(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        int kv = S.loopBound(k);
        for (int i = 0; i < m; i++) {
            int ai = aOff + i * k;
            for (int j = 0; j < n; j++) {
                int bj = bOff + j * k;
                FloatVector acc = FloatVector.zero(S);
                int p = 0;
                for (; p < kv; p += S.length()) {
                    acc = FloatVector.fromArray(S, a, ai + p).fma(FloatVector.fromArray(S, b, bj + p), acc);
                }
                float s = Simd.sum(acc);
                // tail
                for (; p < k; p++) s = Math.fma(a[ai + p], b[bj + p], s);
                int cij = cOff + i * n + j;
                c[cij] = accumulate ? c[cij] + s : s;
            }
        }
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ, scalar twin of {@link #nt}. */
    public static void ntScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + j * k + p];
                c[cOff + i * n + j] = accumulate ? c[cOff + i * n + j] + s : s;
            }
        }
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n] */
    public static void tn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        if (!accumulate) java.util.Arrays.fill(c, cOff, cOff + m * n, 0f);
        int nv = S.loopBound(n);
        // rank-1 update of C by column i of Aᵀ (row p of A) and row p of B
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * n;
            for (int i = 0; i < m; i++) {
                float api = a[aOff + p * m + i];
                FloatVector av = FloatVector.broadcast(S, api);
                int ci = cOff + i * n;
                int j = 0;
                for (; j < nv; j += S.length()) {
                    FloatVector cv = FloatVector.fromArray(S, c, ci + j);
                    FloatVector.fromArray(S, b, bp + j).fma(av, cv).intoArray(c, ci + j);
                }
                // tail
                for (; j < n; j++) c[ci + j] = Math.fma(api, b[bp + j], c[ci + j]);
            }
        }
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n], scalar twin of {@link #tn}. */
    public static void tnScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + p * m + i] * b[bOff + p * n + j];
                c[cOff + i * n + j] = accumulate ? c[cOff + i * n + j] + s : s;
            }
        }
    }
}
