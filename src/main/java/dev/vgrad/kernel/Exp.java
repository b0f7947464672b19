package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh over float arrays, each element the same bits in every JIT tier, with scalar twins of the same bits.
 *
 * <p>Why not {@code VectorOperators.EXP} and {@code TANH}: C2 compiles them to Intel's SVML, while the interpreter
 * and C1 compute each lane with {@code Math.exp} and {@code Math.tanh}; the two differ in the last bit for about
 * 1 % of exps and 0.2 % of tanhs (measured here on 65,536 inputs in [-30, 10]). A kernel's results then depend on
 * whether it had been compiled yet, so two training runs from one seed (or a run resumed from a checkpoint in a
 * fresh JVM) drifted apart. These are built only from exactly rounded operations (fma, add, mul, div and bit
 * operations on the float's fields), which every tier computes alike.
 *
 * <p>Method: x = n ln 2 + r with n = round(x log2 e) and |r| <= ln 2 / 2 (ln 2 in two parts, the first exact in
 * n ln2hi), e^r - 1 = q(r) by its Taylor series to r^8 (truncation below 5e-9 relative), then
 * e^x = 2^n (1 + q(r)) and e^x - 1 = 2^n q(r) + (2^n - 1). 2^n is built in the exponent bits, in two factors for
 * exp so that n from -150 (subnormal results) to 129 (overflow to infinity) stays representable; n is read
 * from the low bits of the float that rounded it. tanh |x| = -m / (2 + m) with m = e^(-2|x|) - 1, then x's
 * sign bit. Errors against Math.exp and Math.tanh (ExpTest): exp within 1 ulp, tanh within 2 ulp.
 *
 * <p>The kernels take arrays, not vectors: a vector passed to a method that C2 does not inline is boxed (it
 * allocates), and a call in a loop of one or two iterations (a softmax row of 20) is not hot enough to be
 * inlined for certain. So the polynomial is written out in each of the two vector loops.
 */
final class Exp {
    private Exp() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    private static final float LOG2E = 1.44269504f;
    /** ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 significant bits, so n * LN2_HI is exact for |n| < 2^15. */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer (round half to even). */
    private static final float ROUND = 12582912f;
    /** ROUND's bits: ROUND + n has the bits ROUND_BITS + n for |n| < 2^22. */
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** Taylor coefficients of (e^r - 1 - r) / r^2: 1/8!, 1/7!, ..., 1/2!. */
    private static final float P8 = 1f / 40320, P7 = 1f / 5040, P6 = 1f / 720, P5 = 1f / 120, P4 = 1f / 24, P3 = 1f / 6, P2 = 0.5f;
    /** exp's argument range: below -104 the result rounds to 0, above 89 to infinity. */
    private static final float EXP_MIN = -104f, EXP_MAX = 89f;
    /** tanh's: e^(-2|x|) - 1 is -1 in float below -40 (|x| > 20). */
    private static final float TANH_MIN = -40f;
    /** The float sign bit. */
    private static final int SIGN = 0x80000000;

    /**
     * y[i] = exp(s (x[i] - c)) for i < n (y may be null: only the sum); returns sum_i of those, the vector lanes
     * added in a fixed tree after the vector loop, then the tail in order.
     */
    static float exp(float[] x, int xOff, float c, float s, float[] y, int yOff, int n) {
        FloatVector sum = FloatVector.zero(S);
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i).sub(c).mul(s);
            // clamped by compare and blend (NaN stays): FloatVector.max / min carry Java's NaN and -0 rules, 3x the code
            v = v.blend(EXP_MIN, v.compare(VectorOperators.LT, EXP_MIN)).blend(EXP_MAX, v.compare(VectorOperators.GT, EXP_MAX));
            FloatVector rounded = v.fma(LOG2E, ROUND);
            FloatVector nf = rounded.sub(ROUND);
            FloatVector r = nf.fma(nf.broadcast(-LN2_HI), v);
            r = nf.fma(nf.broadcast(-LN2_LO), r);
            FloatVector t = r.fma(P8, P7);
            t = t.fma(r, r.broadcast(P6));
            t = t.fma(r, r.broadcast(P5));
            t = t.fma(r, r.broadcast(P4));
            t = t.fma(r, r.broadcast(P3));
            t = t.fma(r, r.broadcast(P2));
            FloatVector q = t.fma(r.mul(r), r);
            // n from the rounded float's low bits (no float-to-int conversion and its NaN and overflow fix-ups)
            IntVector nb = rounded.reinterpretAsInts().sub(ROUND_BITS);
            IntVector h = nb.lanewise(VectorOperators.ASHR, 1);
            FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = nb.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = q.add(1f).mul(s1).mul(s2);
            if (y != null) e.intoArray(y, yOff + i);
            sum = sum.add(e);
        }
        int tail = i;
        boolean masked = i < n && y != null && xOff + i + S.length() <= x.length && yOff + i + S.length() <= y.length;
        if (masked) {
            // the last partial vector (a whole row of a 10-class softmax) under a mask, where whole vectors stay in
            // the arrays: each lane the bits of the scalar twin, one vector instead of n - i scalar exps. Summed
            // below in order after the lane tree, as the scalar tail is: the same sum whichever path ran
            VectorMask<Float> in = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xOff + i, in).sub(c).mul(s);
            v = v.blend(EXP_MIN, v.compare(VectorOperators.LT, EXP_MIN)).blend(EXP_MAX, v.compare(VectorOperators.GT, EXP_MAX));
            FloatVector rounded = v.fma(LOG2E, ROUND);
            FloatVector nf = rounded.sub(ROUND);
            FloatVector r = nf.fma(nf.broadcast(-LN2_HI), v);
            r = nf.fma(nf.broadcast(-LN2_LO), r);
            FloatVector t = r.fma(P8, P7);
            t = t.fma(r, r.broadcast(P6));
            t = t.fma(r, r.broadcast(P5));
            t = t.fma(r, r.broadcast(P4));
            t = t.fma(r, r.broadcast(P3));
            t = t.fma(r, r.broadcast(P2));
            FloatVector q = t.fma(r.mul(r), r);
            IntVector nb = rounded.reinterpretAsInts().sub(ROUND_BITS);
            IntVector h = nb.lanewise(VectorOperators.ASHR, 1);
            FloatVector s1 = h.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector s2 = nb.sub(h).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = q.add(1f).mul(s1).mul(s2);
            e.intoArray(y, yOff + i, in);
        }
        // fixed-order lane sum, written out here: a vector passed to a call C2 does not inline is boxed
        if (Simd.LANES > 8) sum = sum.add(sum.rearrange(Simd.R8));
        if (Simd.LANES > 4) sum = sum.add(sum.rearrange(Simd.R4));
        if (Simd.LANES > 2) sum = sum.add(sum.rearrange(Simd.R2));
        if (Simd.LANES > 1) sum = sum.add(sum.rearrange(Simd.R1));
        float total = sum.lane(0);
        // tail
        for (i = tail; i < n; i++) {
            float e = masked ? y[yOff + i] : exp((x[xOff + i] - c) * s);
            if (y != null) y[yOff + i] = e;
            total += e;
        }
        return total;
    }

    /** Scalar twin of the vector lanes of {@link #exp(float[], int, float, float, float[], int, int)}: e^x. */
    static float exp(float x) {
        float v = x < EXP_MIN ? EXP_MIN : x;
        v = x > EXP_MAX ? EXP_MAX : v;
        float rounded = Math.fma(v, LOG2E, ROUND);
        float nf = rounded - ROUND;
        float r = Math.fma(nf, -LN2_HI, v);
        r = Math.fma(nf, -LN2_LO, r);
        float t = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P8, P7), r, P6), r, P5), r, P4), r, P3), r, P2);
        float q = Math.fma(t, r * r, r);
        int nb = Float.floatToRawIntBits(rounded) - ROUND_BITS, h = nb >> 1;
        float s1 = Float.intBitsToFloat((h + 127) << 23), s2 = Float.intBitsToFloat((nb - h + 127) << 23);
        return (q + 1f) * s1 * s2;
    }

    /** y[i] = tanh(x[i]) for i < n (y may be x: in place). */
    static void tanh(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            FloatVector u = v.abs().mul(-2f);
            u = u.blend(TANH_MIN, u.compare(VectorOperators.LT, TANH_MIN));
            FloatVector rounded = u.fma(LOG2E, ROUND);
            FloatVector nf = rounded.sub(ROUND);
            FloatVector r = nf.fma(nf.broadcast(-LN2_HI), u);
            r = nf.fma(nf.broadcast(-LN2_LO), r);
            FloatVector t = r.fma(P8, P7);
            t = t.fma(r, r.broadcast(P6));
            t = t.fma(r, r.broadcast(P5));
            t = t.fma(r, r.broadcast(P4));
            t = t.fma(r, r.broadcast(P3));
            t = t.fma(r, r.broadcast(P2));
            FloatVector q = t.fma(r.mul(r), r);
            FloatVector s = rounded.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector m = q.fma(s, s.sub(1f));
            // |m| / (2 + m) = -m / (2 + m) with +0 for m = 0, then x's sign bit (tanh(-0) = -0)
            FloatVector a = m.abs().div(m.add(2f));
            a.reinterpretAsInts().or(v.reinterpretAsInts().and(SIGN)).reinterpretAsFloats().intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = tanh(x[xOff + i]);
    }

    /** Scalar twin of the vector lanes of {@link #tanh(float[], int, float[], int, int)}: tanh(x). */
    static float tanh(float x) {
        float u = Math.abs(x) * -2f;
        u = u < TANH_MIN ? TANH_MIN : u;
        float rounded = Math.fma(u, LOG2E, ROUND);
        float nf = rounded - ROUND;
        float r = Math.fma(nf, -LN2_HI, u);
        r = Math.fma(nf, -LN2_LO, r);
        float t = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P8, P7), r, P6), r, P5), r, P4), r, P3), r, P2);
        float q = Math.fma(t, r * r, r);
        float s = Float.intBitsToFloat((Float.floatToRawIntBits(rounded) - (ROUND_BITS - 127)) << 23);
        float m = Math.fma(q, s, s - 1f);
        float a = Math.abs(m) / (m + 2f);
        return Float.intBitsToFloat(Float.floatToRawIntBits(a) | (Float.floatToRawIntBits(x) & SIGN));
    }
}
