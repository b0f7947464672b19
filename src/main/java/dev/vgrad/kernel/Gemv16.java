package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Gemv} with bfloat16 weights (the top 16 bits of a float32): half the bytes to stream per call, at
 * the cost of 8 significant bits (about 3 decimal digits) per weight. Same packed layout as {@link Gemv}
 * with shorts for floats; the weights widen to float32 in registers and every sum is float32 with fma in
 * the same order, so only the rounding of the weights differs from {@link Gemv}.
 */
public final class Gemv16 {
    private Gemv16() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final int L = S.length();
    private static final int WIDE = Gemv.WIDE;

    /** out[i] = bf16(x[i]): float32 rounded to nearest-even bfloat16 (x finite). */
    public static void toBf16(float[] x, int xOff, short[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = bf16(x[xOff + i]);
    }

    /** bf16(v) for one finite float, round to nearest even. */
    public static short bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    /** The float32 value of a bfloat16. */
    public static float toFloat(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /** y[r,j] = act(sum_p x[r,p] W[p,j] + b[j]) with W bf16, packed as {@link Gemv#pack}; rows one at a time. */
    public static void dense(int m, int n, int k, float[] x, int xOff, short[] wp, int wpOff, float[] b, int bOff,
                             Activation act, float alpha, boolean reverse, float[] y, int yOff) {
        int np = Gemv.roundUp(n);
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        int wide = wideEnd / (WIDE * L);
        int panels = wide + (np - wideEnd) / L;
        for (int r = 0; r < m; r++) {
            int xr = xOff + r * k, yr = yOff + r * n;
            // panels front to back (or back to front)
            for (int i = 0; i < panels; i++) {
                int q = reverse ? panels - 1 - i : i;
                int c0 = q < wide ? q * WIDE * L : wideEnd + (q - wide) * L;
                int base = wpOff + k * c0;
                if (c0 < wideEnd) wide1(k, x, xr, wp, base, b, bOff + c0, y, yr + c0);
                else narrow1(k, Math.min(L, n - c0), x, xr, wp, base, b, bOff + c0, y, yr + c0);
            }
            // the activation, in place (as Gemv)
            if (act != Activation.IDENTITY) Activations.forward(act, alpha, y, yr, y, yr, n);
        }
    }

    /** L bf16 weights at wp[i..] widened to float32: the bf16 bits become the float's top half. */
    private static FloatVector load(short[] wp, int i) {
        return ((IntVector) ShortVector.fromArray(H, wp, i).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** One row, one wide panel: y[j] = sum_p x[p] P[p, j] + b[j]. */
    private static void wide1(int k, float[] x, int xOff, short[] wp, int base, float[] b, int bOff, float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0, w = base; p < k; p++, w += WIDE * L) {
            FloatVector xp = FloatVector.broadcast(S, x[xOff + p]);
            a0 = load(wp, w).fma(xp, a0);
            a1 = load(wp, w + L).fma(xp, a1);
            a2 = load(wp, w + 2 * L).fma(xp, a2);
            a3 = load(wp, w + 3 * L).fma(xp, a3);
        }
        a0.add(FloatVector.fromArray(S, b, bOff)).intoArray(y, yOff);
        a1.add(FloatVector.fromArray(S, b, bOff + L)).intoArray(y, yOff + L);
        a2.add(FloatVector.fromArray(S, b, bOff + 2 * L)).intoArray(y, yOff + 2 * L);
        a3.add(FloatVector.fromArray(S, b, bOff + 3 * L)).intoArray(y, yOff + 3 * L);
    }

    /** One row, one single-vector panel with {@code valid} real columns. */
    private static void narrow1(int k, int valid, float[] x, int xOff, short[] wp, int base, float[] b, int bOff, float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S);
        for (int p = 0, w = base; p < k; p++, w += L) a0 = load(wp, w).fma(FloatVector.broadcast(S, x[xOff + p]), a0);
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
