package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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

    /** The epilogue on the mr x nr block of C at (i0, j0), just written by a micro-kernel (hot in L1). */
    void applyBlock(float[] c, int cOff, int i0, int j0, int ldc, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            int ci = (i0 + r) * ldc + j0;
            applyRow(c, cOff + ci, j0, ci, nr);
        }
    }

    /**
     * c[at + q] = act(c[at + q] + bias[j + q]) for q < len (one row segment of a C block, hot in L1);
     * z[zOff + zi + q] = c[at + q] + bias[j + q] first when z is kept. Vectors stay in this loop.
     */
    void applyRow(float[] c, int at, int j, int zi, int len) {
        VectorSpecies<Float> s = GemmBlocking.S;
        boolean relu = act == Activation.RELU, leaky = act == Activation.LEAKY_RELU;
        int q = 0;
        for (int nv = s.loopBound(len); q < nv; q += s.length()) {
            FloatVector v = FloatVector.fromArray(s, c, at + q);
            if (bias != null) v = v.add(FloatVector.fromArray(s, bias, biasOff + j + q));
            if (z != null) v.intoArray(z, zOff + zi + q);
            if (relu) v = v.max(0f);
            else if (leaky) v = v.blend(v.mul(alpha), v.compare(VectorOperators.LT, 0f));
            v.intoArray(c, at + q);
        }
        // tail
        for (; q < len; q++) {
            float v = c[at + q];
            if (bias != null) v += bias[biasOff + j + q];
            if (z != null) z[zOff + zi + q] = v;
            c[at + q] = relu || leaky ? Activations.scalar(act, alpha, v) : v;
        }
        // transcendental activations: the activation family's own loop over the segment
        if (!relu && !leaky && act != Activation.IDENTITY) Activations.forward(act, alpha, c, at, c, at, len);
    }

    /** One element of column j: act(c + bias[j]), keeping z[zOff + zi] = c + bias[j]. */
    float applyScalar(float c, int j, int zi) {
        if (bias != null) c += bias[biasOff + j];
        if (z != null) z[zOff + zi] = c;
        return Activations.scalar(act, alpha, c);
    }
}
