package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the GEMM does to a finished block of C while it is still in cache. Forward (a dense layer):
 * c = act(c + bias[j]), optionally keeping the pre-activation c + bias[j] in {@code z} (laid out like C; GELU's
 * backward needs it). Backward ({@link #derivative}, a dense layer's dx when the layer below ends in an
 * activation): c = c * act'(v), v laid out like C (the activation's output, or GELU's input), the same kernel
 * and bits as the separate {@code ACTIVATION_BACKWARD} step. Immutable: the runtime builds one per GEMM step
 * when it is constructed.
 *
 * @param bias     bias row, or null for none
 * @param biasOff  offset of bias[0]
 * @param act      activation applied after the bias, or whose derivative multiplies C
 * @param alpha    the activation's parameter (leaky ReLU slope)
 * @param z        pre-activation output (same shape and layout as C), or null
 * @param zOff     offset of z[0,0]
 * @param v        the derivative's argument (same shape and layout as C), or null for the forward form
 * @param vOff     offset of v[0,0]
 */
public record GemmEpilogue(float[] bias, int biasOff, Activation act, float alpha, float[] z, int zOff, float[] v, int vOff) {

    /** Nothing: C = A·B. */
    public static final GemmEpilogue NONE = new GemmEpilogue(null, 0, Activation.IDENTITY, 0f, null, 0);

    public GemmEpilogue {
        java.util.Objects.requireNonNull(act, "act");
        if (v != null && (bias != null || z != null)) throw new IllegalArgumentException("a derivative epilogue has no bias and no z");
    }

    /** The forward epilogue: c = act(c + bias[j]), z = c + bias[j] when z is not null. */
    public GemmEpilogue(float[] bias, int biasOff, Activation act, float alpha, float[] z, int zOff) {
        this(bias, biasOff, act, alpha, z, zOff, null, 0);
    }

    /** The backward epilogue: c = c * act'(v), elementwise. */
    public static GemmEpilogue derivative(Activation act, float alpha, float[] v, int vOff) {
        return new GemmEpilogue(null, 0, act, alpha, null, 0, java.util.Objects.requireNonNull(v, "v"), vOff);
    }

    /** Whether it changes nothing (no bias, no z, the identity; a derivative of the identity is 1). */
    public boolean isNone() { return bias == null && z == null && act == Activation.IDENTITY; }

    /**
     * The epilogue on rows [i0, i1) of C (n columns, row-major from cOff), run apart from its GEMM: the same
     * element-wise operations, so the same bits as fused. An executor splits a column-split product's epilogue this
     * way, by rows, over its threads.
     */
    public void applyRows(float[] c, int cOff, int n, int i0, int i1) {
        if (i1 > i0) applyBlock(c, cOff, i0, 0, n, i1 - i0, n);
    }

    /** The epilogue on the mr x nr block of C at (i0, j0), just finished by the GEMM (still in cache). */
    void applyBlock(float[] c, int cOff, int i0, int j0, int ldc, int mr, int nr) {
        for (int r = 0; r < mr; r++) {
            int ci = (i0 + r) * ldc + j0;
            applyRow(c, cOff + ci, j0, ci, nr);
        }
    }

    /**
     * c[at + q] = act(c[at + q] + bias[j + q]) for q < len (one row segment of a finished C block);
     * z[zOff + zi + q] = c[at + q] + bias[j + q] first when z is kept. The derivative form:
     * c[at + q] *= act'(v[vOff + zi + q]). Straight-line loops, one per
     * operation (the activation through {@link Activations#forward}): no vector is merged across
     * branches, which C2 may fail to keep in registers (boxing allocates).
     */
    void applyRow(float[] c, int at, int j, int zi, int len) {
        if (v != null) {
            // dx = dy * act'(v) in place, through the ACTIVATION_BACKWARD kernel
            Activations.backward(act, alpha, v, vOff + zi, c, at, c, at, len, false);
            return;
        }
        if (bias != null && z == null && act == Activation.RELU) {
            // the common dense + ReLU in one pass over the row (two passes cost 1.04x the bare GEMM on fc2)
            addBiasRelu(c, at, biasOff + j, len);
            return;
        }
        if (bias != null) addBias(c, at, biasOff + j, len);
        if (z != null) System.arraycopy(c, at, z, zOff + zi, len);
        if (act != Activation.IDENTITY) Activations.forward(act, alpha, c, at, c, at, len);
    }

    /** c[at + q] += bias[b + q] for q < len */
    private void addBias(float[] c, int at, int b, int len) {
        VectorSpecies<Float> s = GemmBlocking.S;
        int q = 0;
        for (int nv = s.loopBound(len); q < nv; q += s.length()) {
            FloatVector.fromArray(s, c, at + q).add(FloatVector.fromArray(s, bias, b + q)).intoArray(c, at + q);
        }
        // tail
        for (; q < len; q++) c[at + q] += bias[b + q];
    }

    /** c[at + q] = max(c[at + q] + bias[b + q], 0) for q < len */
    private void addBiasRelu(float[] c, int at, int b, int len) {
        VectorSpecies<Float> s = GemmBlocking.S;
        int q = 0;
        for (int nv = s.loopBound(len); q < nv; q += s.length()) {
            FloatVector.fromArray(s, c, at + q).add(FloatVector.fromArray(s, bias, b + q)).max(0f).intoArray(c, at + q);
        }
        // tail
        for (; q < len; q++) c[at + q] = Activations.scalar(Activation.RELU, 0f, c[at + q] + bias[b + q]);
    }

    /** One element of column j: act(c + bias[j]), keeping z[zOff + zi] = c + bias[j]; or c * act'(v[vOff + zi]). */
    float applyScalar(float c, int j, int zi) {
        if (v != null) return c * Activations.scalarDerivative(act, alpha, v[vOff + zi]);
        if (bias != null) c += bias[biasOff + j];
        if (z != null) z[zOff + zi] = c;
        return Activations.scalar(act, alpha, c);
    }
}
