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
}
