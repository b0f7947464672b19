package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Exp}: hand-worked values and limits, the array kernels (vector lanes and tails) bitwise equal to the
 * scalar twins, and the error against Math.exp / Math.tanh (double precision, rounded once to float) over wide
 * random ranges.
 */
class ExpTest {
    private static int ulps(float a, float b) {
        if (a == b || Float.isNaN(a) && Float.isNaN(b)) return 0;
        return Math.abs(Float.floatToIntBits(a) - Float.floatToIntBits(b));
    }

    @Test
    void handWorkedValuesAndLimits() {
        assertEquals(1f, Exp.exp(0f));
        // e = 2.71828182...: float 2.7182817 is the nearest
        assertEquals(2.7182817f, Exp.exp(1f));
        // ln 2 -> 2 within an ulp, ln 0.5 -> 0.5 within an ulp
        assertTrue(ulps(2f, Exp.exp(0.6931472f)) <= 1);
        assertTrue(ulps(0.5f, Exp.exp(-0.6931472f)) <= 1);
        assertEquals(0f, Exp.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
        // the largest finite result, overflow, subnormal results, underflow to 0
        assertTrue(ulps((float) Math.exp(88.7f), Exp.exp(88.7f)) <= 1);
        assertEquals(Float.POSITIVE_INFINITY, Exp.exp(88.8f));
        assertEquals(Float.MIN_VALUE, Exp.exp(-103f)); // e^-103 = 1.8e-45, nearest subnormal 1.4e-45
        assertEquals(0f, Exp.exp(-104f));
        assertEquals(0f, Exp.tanh(0f));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(Exp.tanh(-0f)));
        assertEquals(Float.floatToIntBits(0f), Float.floatToIntBits(Exp.tanh(0f)));
        assertEquals(1f, Exp.tanh(20f));
        assertEquals(-1f, Exp.tanh(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Exp.tanh(Float.NaN)));
        // tanh(x) = x to float precision for tiny x; tanh(0.5) = 0.46211715...
        assertEquals(1e-20f, Exp.tanh(1e-20f));
        assertTrue(ulps(0.46211717f, Exp.tanh(0.5f)) <= 1);
    }

    @Test
    void arrayKernelsEqualTheScalarTwinBitwiseAndStayWithinTwoUlpsOfMath() {
        SplittableRandom r = new SplittableRandom(11);
        int n = 1 << 16;
        float[] x = new float[n], e = new float[n], t = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble();
            x[i] = (float) (i % 3 == 0 ? u * 220 - 115 : i % 3 == 1 ? u * 8 - 4 : (u - 0.5) * 1e-3);
        }
        // the array kernels at an odd length, so the last elements take the scalar tail
        int len = n - 3;
        float sum = Exp.exp(x, 0, 0f, 1f, e, 0, len);
        Exp.tanh(x, 0, t, 0, len);
        e[len] = Exp.exp(x[len]);
        e[len + 1] = Exp.exp(x[len + 1]);
        e[len + 2] = Exp.exp(x[len + 2]);
        t[len] = Exp.tanh(x[len]);
        t[len + 1] = Exp.tanh(x[len + 1]);
        t[len + 2] = Exp.tanh(x[len + 2]);
        // the sum returned equals the sum of what was written, within its rounding; null output gives the same sum
        double direct = 0;
        for (int i = 0; i < len; i++) direct += e[i];
        assertEquals(direct, sum, 1e-5 * direct);
        assertEquals(Float.floatToIntBits(sum), Float.floatToIntBits(Exp.exp(x, 0, 0f, 1f, null, 0, len)));
        // shift and sign: exp(-(x - 2)) = exp(2 - x)
        float[] shifted = new float[5];
        Exp.exp(new float[] {2f, 3f, 1f, 2.5f, 0f}, 0, 2f, -1f, shifted, 0, 5);
        assertEquals(1f, shifted[0]);
        assertTrue(ulps((float) Math.exp(-1), shifted[1]) <= 1);
        assertTrue(ulps((float) Math.exp(1), shifted[2]) <= 1);
        // a short row (10 of 16 lanes) takes a masked vector where whole vectors fit in the arrays and the scalar
        // tail at their very end: the same values and the same sum either way
        float[] row = {3f, -1f, 0.5f, 2f, -7f, 1f, 0f, 4f, -2f, 2.5f};
        float[] roomy = new float[64], tight = new float[10], outRoomy = new float[64], outTight = new float[10];
        System.arraycopy(row, 0, roomy, 5, 10);
        System.arraycopy(row, 0, tight, 0, 10);
        float sumRoomy = Exp.exp(roomy, 5, 4f, 1f, outRoomy, 7, 10), sumTight = Exp.exp(tight, 0, 4f, 1f, outTight, 0, 10);
        assertEquals(Float.floatToIntBits(sumTight), Float.floatToIntBits(sumRoomy));
        for (int j = 0; j < 10; j++) {
            assertEquals(Float.floatToIntBits(outTight[j]), Float.floatToIntBits(outRoomy[7 + j]));
            assertEquals(Float.floatToIntBits(Exp.exp(row[j] - 4f)), Float.floatToIntBits(outTight[j]));
        }
        assertEquals(0f, outRoomy[6]);
        assertEquals(0f, outRoomy[17]);
        int worstExp = 0, worstTanh = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(Exp.exp(x[i])), Float.floatToIntBits(e[i]), "exp lane vs twin at x = " + x[i]);
            assertEquals(Float.floatToIntBits(Exp.tanh(x[i])), Float.floatToIntBits(t[i]), "tanh lane vs twin at x = " + x[i]);
            float re = (float) Math.exp(x[i]);
            // subnormal results carry fewer bits: compare those absolutely
            if (re < Float.MIN_NORMAL) assertTrue(Math.abs(re - e[i]) <= Float.MIN_VALUE, "exp(" + x[i] + ")");
            else worstExp = Math.max(worstExp, ulps(re, e[i]));
            worstTanh = Math.max(worstTanh, ulps((float) Math.tanh(x[i]), t[i]));
        }
        assertTrue(worstExp <= 2, "exp error " + worstExp + " ulp");
        assertTrue(worstTanh <= 3, "tanh error " + worstTanh + " ulp");
    }
}
