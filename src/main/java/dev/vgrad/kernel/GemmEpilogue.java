package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;

/**
 * What the GEMM does to a finished block of C while it is still in registers: c = act(c + bias[j]),
 * optionally keeping the pre-activation c + bias[j] in {@code z} (laid out like C; GELU's backward
 * needs it). Immutable: the runtime builds one per dense step when it is constructed.
 *
 * @param bias     bias row, or null for none
 * @param biasOff  offset of bias[0]
 * @param act      activation applied after the bias
 * @param alpha    the activation's parameter (leaky ReLU slope)
 * @param z        pre-activation output (same shape and layout as C), or null
 * @param zOff     offset of z[0,0]
 */
public record GemmEpilogue(float[] bias, int biasOff, Activation act, float alpha, float[] z, int zOff) {

    /** Nothing: C = A·B. */
    public static final GemmEpilogue NONE = new GemmEpilogue(null, 0, Activation.IDENTITY, 0f, null, 0);

    public GemmEpilogue {
        java.util.Objects.requireNonNull(act, "act");
    }

    boolean isNone() { return bias == null && z == null && act == Activation.IDENTITY; }

    /** c = act(c + bias[j]) on one vector of columns j.., z = c + bias[j] at z index zi. */
    FloatVector apply(FloatVector c, int j, int zi) {
        if (bias != null) c = c.add(FloatVector.fromArray(c.species(), bias, biasOff + j));
        if (z != null) c.intoArray(z, zOff + zi);
        return Activations.apply(act, alpha, c);
    }

    /** Scalar twin of {@link #apply}: one element of column j. */
    float applyScalar(float c, int j, int zi) {
        if (bias != null) c += bias[biasOff + j];
        if (z != null) z[zOff + zi] = c;
        return Activations.scalar(act, alpha, c);
    }
}
