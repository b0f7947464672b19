package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Input checks: where the first non-finite value (NaN or an infinity) of a run of floats is. */
public final class Finite {
    private Finite() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /** The least i < n with x[i] not finite, or -1. */
    public static int firstNonFinite(float[] x, int xOff, int n) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            if (!FloatVector.fromArray(S, x, xOff + i).test(VectorOperators.IS_FINITE).allTrue()) break;
        }
        // tail (and the vector that failed, scalar to find the lane)
        for (; i < n; i++) if (!Float.isFinite(x[xOff + i])) return i;
        return -1;
    }

    /** Scalar twin of {@link #firstNonFinite}. */
    public static int firstNonFiniteScalar(float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) if (!Float.isFinite(x[xOff + i])) return i;
        return -1;
    }
}
