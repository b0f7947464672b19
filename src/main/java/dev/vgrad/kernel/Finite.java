package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Input checks: where the first non-finite value (NaN or an infinity) of a run of floats is. */
public final class Finite {
    private Finite() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /**
     * The least i < n with x[i] not finite, or -1. acc = x·0 + acc stays 0 while every x is finite and turns NaN at an
     * infinity or a NaN: one fma a vector and no branch (four accumulators for the fma's latency); only a run that
     * is not all finite is searched again, scalar, for the index.
     */
    public static int firstNonFinite(float[] x, int xOff, int n) {
        int l = S.length(), nv = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S), a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        int i = 0;
        for (; i + 4 * l <= nv; i += 4 * l) {
            a0 = FloatVector.fromArray(S, x, xOff + i).fma(zero, a0);
            a1 = FloatVector.fromArray(S, x, xOff + i + l).fma(zero, a1);
            a2 = FloatVector.fromArray(S, x, xOff + i + 2 * l).fma(zero, a2);
            a3 = FloatVector.fromArray(S, x, xOff + i + 3 * l).fma(zero, a3);
        }
        for (; i < nv; i += l) a0 = FloatVector.fromArray(S, x, xOff + i).fma(zero, a0);
        boolean finite = a0.add(a1).add(a2.add(a3)).test(VectorOperators.IS_FINITE).allTrue();
        // the tail; or, when a vector was not finite, everything from the start for the least index
        for (int j = finite ? nv : 0; j < n; j++) if (!Float.isFinite(x[xOff + j])) return j;
        return -1;
    }

    /** Scalar twin of {@link #firstNonFinite}. */
    public static int firstNonFiniteScalar(float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) if (!Float.isFinite(x[xOff + i])) return i;
        return -1;
    }
}
