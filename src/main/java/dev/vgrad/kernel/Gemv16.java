package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemv} with bfloat16 weights (the top 16 bits of a float32): half the bytes to stream per call, at
 * the cost of 8 significant bits (about 3 decimal digits) per weight.
 *
 * <p>Packed layout: the column panels of {@link Gemv} (wide while at least {@link Gemv#WIDE} vectors of real
 * columns remain, then one vector; zero-padded), and inside a panel, rows in pairs: for rows p = 2q and
 * 2q + 1, each vector of the panel is one int per column with W[2q, c] in the low half and W[2q+1, c] in
 * the high half (0 past the last row). A panel starting at column c0 sits at packed offset ceil(k/2) * c0.
 * One 64-byte load thus feeds two fmas, each widened by a single shift or mask. Every sum is float32 with
 * fma over p in order, so only the rounding of the weights differs from {@link Gemv}.
 */
public final class Gemv16 {
    private Gemv16() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();
    private static final int WIDE = Gemv.WIDE;
    private static final int HIGH = 0xFFFF0000;

    /** bf16(v) for one finite float, rounded to nearest even. */
    public static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    /** The float32 value of a bfloat16. */
    public static float toFloat(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /** Ints in the packed form of a (k, n) matrix: ceil(k/2) row pairs times n rounded up to whole vectors. */
    public static int packedSize(int k, int n) {
        return (k + 1) / 2 * Gemv.roundUp(n);
    }

    /** packed = bf16(W) (k, n) row-major, in column panels of row pairs (layout in the class comment). */
    public static void pack(int k, int n, float[] w, int wOff, int[] packed, int pOff) {
        int np = Gemv.roundUp(n), kh = (k + 1) / 2;
        java.util.Arrays.fill(packed, pOff, pOff + kh * np, 0);
        for (int c0 = 0; c0 < np; ) {
            int width = Gemv.panelWidth(c0, n);
            int base = pOff + kh * c0;
            for (int q = 0; q < kh; q++) {
                for (int j = 0; j < width && c0 + j < n; j++) {
                    int lo = bf16(w[wOff + 2 * q * n + c0 + j]) & 0xFFFF;
                    int hi = 2 * q + 1 < k ? bf16(w[wOff + (2 * q + 1) * n + c0 + j]) & 0xFFFF : 0;
                    packed[base + q * width + j] = lo | hi << 16;
                }
            }
            c0 += width;
        }
    }

    /** y[r,j] = act(sum_p x[r,p] bf16(W)[p,j] + b[j]) with W packed by {@link #pack}; rows one at a time. */
    public static void dense(int m, int n, int k, float[] x, int xOff, int[] wp, int wpOff, float[] b, int bOff,
                             Activation act, float alpha, boolean reverse, float[] y, int yOff) {
        int np = Gemv.roundUp(n), kh = (k + 1) / 2;
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        int wide = wideEnd / (WIDE * L);
        int panels = wide + (np - wideEnd) / L;
        for (int r = 0; r < m; r++) {
            int xr = xOff + r * k, yr = yOff + r * n;
            // panels front to back (or back to front)
            for (int i = 0; i < panels; i++) {
                int q = reverse ? panels - 1 - i : i;
                int c0 = q < wide ? q * WIDE * L : wideEnd + (q - wide) * L;
                int base = wpOff + kh * c0;
                if (c0 < wideEnd) wide1(k, x, xr, wp, base, b, bOff + c0, y, yr + c0);
                else narrow1(k, Math.min(L, n - c0), x, xr, wp, base, b, bOff + c0, y, yr + c0);
            }
            // the activation, in place (as Gemv)
            if (act != Activation.IDENTITY) Activations.forward(act, alpha, y, yr, y, yr, n);
        }
    }

    /** nz[0..c) = the row pairs q < k/2 with x[2q] or x[2q+1] nonzero, in order; returns c (an odd last row is not listed). */
    public static int nonZeroPairs(int k, float[] x, int xOff, int[] nz) {
        int c = 0;
        for (int q = 0; q < k / 2; q++) {
            nz[c] = q;
            c += x[xOff + 2 * q] != 0f || x[xOff + 2 * q + 1] != 0f ? 1 : 0;
        }
        return c;
    }

    /**
     * One row reading only the listed row pairs (from {@link #nonZeroPairs}) and an odd last row; bitwise
     * {@link #dense}'s row, for the reason {@link Gemv#denseRowSparse} gives: a skipped pair adds fma(0, w, s) = s twice.
     */
    public static void denseRowSparse(int n, int k, float[] x, int xOff, int[] nz, int nnz, int[] wp, int wpOff, float[] b, int bOff,
                                      Activation act, float alpha, boolean reverse, float[] y, int yOff) {
        int np = Gemv.roundUp(n), kh = (k + 1) / 2;
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        int wide = wideEnd / (WIDE * L);
        int panels = wide + (np - wideEnd) / L;
        for (int i = 0; i < panels; i++) {
            int q = reverse ? panels - 1 - i : i;
            int c0 = q < wide ? q * WIDE * L : wideEnd + (q - wide) * L;
            int base = wpOff + kh * c0;
            if (c0 < wideEnd) wide1Sparse(k, x, xOff, nz, nnz, wp, base, b, bOff + c0, y, yOff + c0);
            else narrow1Sparse(k, Math.min(L, n - c0), x, xOff, nz, nnz, wp, base, b, bOff + c0, y, yOff + c0);
        }
        if (act != Activation.IDENTITY) Activations.forward(act, alpha, y, yOff, y, yOff, n);
    }

    /** One row, one wide panel, the listed row pairs only. */
    private static void wide1Sparse(int k, float[] x, int xOff, int[] nz, int nnz, int[] wp, int base, float[] b, int bOff,
                                    float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < nnz; i++) {
            int q = nz[i], w = base + q * (WIDE * L);
            FloatVector xe = FloatVector.broadcast(S, x[xOff + 2 * q]), xo = FloatVector.broadcast(S, x[xOff + 2 * q + 1]);
            IntVector v0 = IntVector.fromArray(I, wp, w), v1 = IntVector.fromArray(I, wp, w + L);
            IntVector v2 = IntVector.fromArray(I, wp, w + 2 * L), v3 = IntVector.fromArray(I, wp, w + 3 * L);
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
            a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
            a2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
            a3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
            a0 = v0.and(HIGH).reinterpretAsFloats().fma(xo, a0);
            a1 = v1.and(HIGH).reinterpretAsFloats().fma(xo, a1);
            a2 = v2.and(HIGH).reinterpretAsFloats().fma(xo, a2);
            a3 = v3.and(HIGH).reinterpretAsFloats().fma(xo, a3);
        }
        // tail: an odd last row, in the low halves
        if (k % 2 == 1) {
            int w = base + (k / 2) * (WIDE * L);
            FloatVector xe = FloatVector.broadcast(S, x[xOff + k - 1]);
            a0 = IntVector.fromArray(I, wp, w).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
            a1 = IntVector.fromArray(I, wp, w + L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
            a2 = IntVector.fromArray(I, wp, w + 2 * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
            a3 = IntVector.fromArray(I, wp, w + 3 * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
        }
        a0.add(FloatVector.fromArray(S, b, bOff)).intoArray(y, yOff);
        a1.add(FloatVector.fromArray(S, b, bOff + L)).intoArray(y, yOff + L);
        a2.add(FloatVector.fromArray(S, b, bOff + 2 * L)).intoArray(y, yOff + 2 * L);
        a3.add(FloatVector.fromArray(S, b, bOff + 3 * L)).intoArray(y, yOff + 3 * L);
    }

    /** One row, one single-vector panel, the listed row pairs only. */
    private static void narrow1Sparse(int k, int valid, float[] x, int xOff, int[] nz, int nnz, int[] wp, int base, float[] b, int bOff,
                                      float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < nnz; i++) {
            int q = nz[i];
            IntVector v = IntVector.fromArray(I, wp, base + q * L);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.broadcast(S, x[xOff + 2 * q]), a0);
            a0 = v.and(HIGH).reinterpretAsFloats().fma(FloatVector.broadcast(S, x[xOff + 2 * q + 1]), a0);
        }
        // tail: an odd last row
        if (k % 2 == 1) {
            a0 = IntVector.fromArray(I, wp, base + (k / 2) * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.broadcast(S, x[xOff + k - 1]), a0);
        }
        // the sums under a mask, then + b in scalar (as narrow1)
        a0.intoArray(y, yOff, S.indexInRange(0, valid));
        for (int j = 0; j < valid; j++) y[yOff + j] += b[bOff + j];
    }

    /** One row, one wide panel: y[j] = sum_p x[p] P[p, j] + b[j], j < WIDE * L. */
    private static void wide1(int k, float[] x, int xOff, int[] wp, int base, float[] b, int bOff, float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int pairs = k / 2, w = base;
        for (int q = 0; q < pairs; q++, w += WIDE * L) {
            FloatVector xe = FloatVector.broadcast(S, x[xOff + 2 * q]), xo = FloatVector.broadcast(S, x[xOff + 2 * q + 1]);
            IntVector v0 = IntVector.fromArray(I, wp, w), v1 = IntVector.fromArray(I, wp, w + L);
            IntVector v2 = IntVector.fromArray(I, wp, w + 2 * L), v3 = IntVector.fromArray(I, wp, w + 3 * L);
            // row 2q from the low halves, row 2q+1 from the high halves
            a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
            a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
            a2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
            a3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
            a0 = v0.and(HIGH).reinterpretAsFloats().fma(xo, a0);
            a1 = v1.and(HIGH).reinterpretAsFloats().fma(xo, a1);
            a2 = v2.and(HIGH).reinterpretAsFloats().fma(xo, a2);
            a3 = v3.and(HIGH).reinterpretAsFloats().fma(xo, a3);
        }
        // tail: an odd last row, in the low halves
        if (k % 2 == 1) {
            FloatVector xe = FloatVector.broadcast(S, x[xOff + k - 1]);
            a0 = IntVector.fromArray(I, wp, w).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0);
            a1 = IntVector.fromArray(I, wp, w + L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1);
            a2 = IntVector.fromArray(I, wp, w + 2 * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2);
            a3 = IntVector.fromArray(I, wp, w + 3 * L).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3);
        }
        a0.add(FloatVector.fromArray(S, b, bOff)).intoArray(y, yOff);
        a1.add(FloatVector.fromArray(S, b, bOff + L)).intoArray(y, yOff + L);
        a2.add(FloatVector.fromArray(S, b, bOff + 2 * L)).intoArray(y, yOff + 2 * L);
        a3.add(FloatVector.fromArray(S, b, bOff + 3 * L)).intoArray(y, yOff + 3 * L);
    }

    /** One row, one single-vector panel with {@code valid} real columns. */
    private static void narrow1(int k, int valid, float[] x, int xOff, int[] wp, int base, float[] b, int bOff, float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S);
        int pairs = k / 2, w = base;
        for (int q = 0; q < pairs; q++, w += L) {
            IntVector v = IntVector.fromArray(I, wp, w);
            a0 = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.broadcast(S, x[xOff + 2 * q]), a0);
            a0 = v.and(HIGH).reinterpretAsFloats().fma(FloatVector.broadcast(S, x[xOff + 2 * q + 1]), a0);
        }
        // tail: an odd last row
        if (k % 2 == 1) {
            a0 = IntVector.fromArray(I, wp, w).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                    .fma(FloatVector.broadcast(S, x[xOff + k - 1]), a0);
        }
        // the sums under a mask (the last panel's padding lanes never reach y), then + b in scalar (as Gemv)
        a0.intoArray(y, yOff, S.indexInRange(0, valid));
        for (int j = 0; j < valid; j++) y[yOff + j] += b[bOff + j];
    }

    /** Scalar twin of {@link #dense}: W (k, n) row-major unpacked, each weight rounded to bf16 first. */
    public static void denseScalar(int m, int n, int k, float[] x, int xOff, float[] w, int wOff, float[] b, int bOff,
                                   Activation act, float alpha, float[] y, int yOff) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s = Math.fma(x[xOff + r * k + p], toFloat(bf16(w[wOff + p * n + j])), s);
                y[yOff + r * n + j] = Activations.scalar(act, alpha, s + b[bOff + j]);
            }
        }
    }
}
