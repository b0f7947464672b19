package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** The vector species every kernel uses, chosen once at class load, and a deterministic lane sum. */
public final class Simd {
    private Simd() {}

    /** The widest float species the CPU supports (512-bit on AVX-512, 256-bit on AVX2). */
    public static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    /** Float lanes per vector. */
    public static final int LANES = FLOATS.length();

    /** Lane rotations by 8, 4, 2 and 1 for {@link #sum} (those wider than the species are unused). */
    private static final VectorShuffle<Float> R8 = rotation(8), R4 = rotation(4), R2 = rotation(2), R1 = rotation(1);

    private static VectorShuffle<Float> rotation(int d) {
        return d < LANES ? VectorShuffle.iota(FLOATS, d, 1, true) : null;
    }

    /**
     * sum_i v[i] by a fixed pairwise tree (lane i + lane i + L/2, ...). Unlike {@code reduceLanes(ADD)},
     * whose order may differ between the interpreter and compiled code, the result is the same bits
     * in every tier, so a seed reproduces training exactly.
     */
    public static float sum(FloatVector v) {
        if (LANES > 8) v = v.add(v.rearrange(R8));
        if (LANES > 4) v = v.add(v.rearrange(R4));
        if (LANES > 2) v = v.add(v.rearrange(R2));
        if (LANES > 1) v = v.add(v.rearrange(R1));
        return v.lane(0);
    }
}
