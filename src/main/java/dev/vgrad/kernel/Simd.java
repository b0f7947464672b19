package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The vector species every kernel uses, chosen once at class load. */
public final class Simd {
    private Simd() {}

    /** The widest float species the CPU supports (512-bit on AVX-512, 256-bit on AVX2). */
    public static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /** Float lanes per vector. */
    public static final int LANES = FLOATS.length();

    /**
     * sum_i v[i] by a fixed pairwise tree (lanes i and i + half added, half = LANES/2 .. 1).
     * {@code reduceLanes(ADD)} leaves the order open, and it does differ: interpreted code sums the
     * lanes in sequence, C2-compiled code in a tree, so the same kernel on the same data changed its
     * last bits once the JIT compiled it, and a seeded run was not bitwise reproducible. Lanewise adds
     * and slices are exact in both, so this sum is the same bits whether interpreted or compiled.
     */
    public static float sum(FloatVector v) {
        for (int half = v.length() / 2; half >= 1; half /= 2) v = v.add(v.slice(half));
        return v.lane(0);
    }
}
