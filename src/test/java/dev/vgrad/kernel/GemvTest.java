package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GemvTest {
    static final int L = Simd.LANES;
    static final int[] SIZES = {1, 2, L - 1, L, L + 1, 3 * L + 5, 4 * L, 4 * L + 1, 5 * L - 1, 8 * L + 3, 37};

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    /** Packs W and runs the vector kernel into a y with guard values around it. */
    static float[] run(int m, int n, int k, float[] x, float[] w, float[] b, Activation act, boolean reverse) {
        float[] packed = new float[Gemv.packedSize(k, n) + 3];
        Gemv.pack(k, n, w, 0, packed, 3);
        float[] y = new float[m * n + 2];
        y[0] = 7f;
        y[m * n + 1] = 9f;
        Gemv.dense(m, n, k, x, 0, packed, 3, b, 0, act, 0.1f, reverse, y, 1);
        assertEquals(7f, y[0], "wrote before y");
        assertEquals(9f, y[m * n + 1], "wrote past y");
        return java.util.Arrays.copyOfRange(y, 1, 1 + m * n);
    }

    @Test
    void handWorked() {
        // x (1, 2), W (2, 3), b (3): relu([1*1 + 2*4 + 0.5, 1*2 + 2*5 - 100, 1*3 + 2*6 + 1]) = [9.5, 0, 16]
        float[] x = {1, 2}, w = {1, 2, 3, 4, 5, 6}, b = {0.5f, -100f, 1f};
        assertArrayEquals(new float[] {9.5f, 0f, 16f}, run(1, 3, 2, x, w, b, Activation.RELU, false));
        float[] y = new float[3];
        Gemv.denseScalar(1, 3, 2, x, 0, w, 0, b, 0, Activation.RELU, 0f, y, 0);
        assertArrayEquals(new float[] {9.5f, 0f, 16f}, y);
    }

    @Test
    void matchesScalarTwinBitwiseForPiecewiseLinearActivations() {
        SplittableRandom r = new SplittableRandom(1);
        for (int m : new int[] {1, 3, 4, 5, 9}) {
            for (int n : SIZES) {
                for (int k : new int[] {1, L - 1, L + 1, 31}) {
                    float[] x = random(r, m * k), w = random(r, k * n), b = random(r, n);
                    for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU, Activation.LEAKY_RELU}) {
                        float[] want = new float[m * n];
                        Gemv.denseScalar(m, n, k, x, 0, w, 0, b, 0, act, 0.1f, want, 0);
                        String at = "m=" + m + " n=" + n + " k=" + k + " " + act;
                        assertArrayEquals(want, run(m, n, k, x, w, b, act, false), at);
                        assertArrayEquals(want, run(m, n, k, x, w, b, act, true), at + " reversed");
                    }
                }
            }
        }
    }

    @Test
    void matchesTheTrainingForwardPassBitwiseForEveryActivation() {
        // Gemm.nn then Bias.biasActivation is what the training plan runs for a dense layer; layers wider
        // than Gemm's narrow paths (the ones a Predictor runs through Gemv) sum each output over p in order with fma
        SplittableRandom r = new SplittableRandom(2);
        for (Activation act : Activation.values()) {
            for (int n : SIZES) {
                if (Gemm.narrow(n)) continue;
                int m = 6, k = 2 * L + 3;
                float[] x = random(r, m * k), w = random(r, k * n), b = random(r, n);
                float[] want = new float[m * n];
                Gemm.nn(m, n, k, x, 0, w, 0, want, 0, false);
                Bias.biasActivation(m, n, b, 0, act, 0.1f, want, 0, null, 0);
                assertArrayEquals(want, run(m, n, k, x, w, b, act, n % 2 == 0), act + " n=" + n);
            }
        }
    }

    @Test
    void skippingZeroInputsChangesNoBit() {
        SplittableRandom r = new SplittableRandom(6);
        for (int n : SIZES) {
            for (double zeros : new double[] {0, 0.5, 0.9, 1}) {
                int k = 3 * L + 2;
                float[] x = random(r, k), w = random(r, k * n), b = random(r, n);
                for (int p = 0; p < k; p++) if (r.nextDouble() < zeros) x[p] = r.nextBoolean() ? 0f : -0f;
                float[] packed = new float[Gemv.packedSize(k, n)];
                Gemv.pack(k, n, w, 0, packed, 0);
                int[] nz = new int[k];
                int nnz = Gemv.nonZeros(k, x, 0, nz);
                for (int i = 0; i < nnz; i++) assertTrue(x[nz[i]] != 0f && (i == 0 || nz[i] > nz[i - 1]));
                for (Activation act : new Activation[] {Activation.RELU, Activation.TANH}) {
                    float[] want = new float[n], got = new float[n];
                    Gemv.dense(1, n, k, x, 0, packed, 0, b, 0, act, 0f, false, want, 0);
                    Gemv.denseRowSparse(n, k, x, 0, nz, nnz, packed, 0, b, 0, act, 0f, true, got, 0);
                    assertArrayEquals(want, got, "n=" + n + " zeros=" + zeros + " " + act);
                }
            }
        }
        // hand-worked: x = [0, 2], W = [[5, 6], [1, -1]], b = [0, 0]: only row 1 is read -> [2, -2]
        float[] packed = new float[Gemv.packedSize(2, 2)];
        Gemv.pack(2, 2, new float[] {5, 6, 1, -1}, 0, packed, 0);
        int[] nz = new int[2];
        float[] y = new float[2];
        Gemv.denseRowSparse(2, 2, new float[] {0, 2}, 0, nz, Gemv.nonZeros(2, new float[] {0, 2}, 0, nz), packed, 0,
                new float[2], 0, Activation.IDENTITY, 0f, false, y, 0);
        assertArrayEquals(new float[] {2f, -2f}, y);
    }

    @Test
    void skippingZeroPairsInBf16ChangesNoBit() {
        SplittableRandom r = new SplittableRandom(7);
        for (int n : SIZES) {
            for (int k : new int[] {1, 2, L + 3, 2 * L + 2}) {
                for (double zeros : new double[] {0, 0.7, 1}) {
                    float[] x = random(r, k), w = random(r, k * n), b = random(r, n);
                    for (int p = 0; p < k; p++) if (r.nextDouble() < zeros) x[p] = 0f;
                    int[] p16 = new int[Gemv16.packedSize(k, n)];
                    Gemv16.pack(k, n, w, 0, p16, 0);
                    int[] nz = new int[k];
                    int nnz = Gemv16.nonZeroPairs(k, x, 0, nz);
                    float[] want = new float[n], got = new float[n];
                    Gemv16.dense(1, n, k, x, 0, p16, 0, b, 0, Activation.RELU, 0f, false, want, 0);
                    Gemv16.denseRowSparse(n, k, x, 0, nz, nnz, p16, 0, b, 0, Activation.RELU, 0f, false, got, 0);
                    assertArrayEquals(want, got, "n=" + n + " k=" + k + " zeros=" + zeros);
                }
            }
        }
    }

    @Test
    void smoothActivationsAgreeWithScalarTwinClosely() {
        SplittableRandom r = new SplittableRandom(3);
        for (Activation act : new Activation[] {Activation.SIGMOID, Activation.TANH, Activation.GELU}) {
            int m = 5, n = 4 * L + 3, k = 19;
            float[] x = random(r, m * k), w = random(r, k * n), b = random(r, n);
            float[] want = new float[m * n];
            Gemv.denseScalar(m, n, k, x, 0, w, 0, b, 0, act, 0f, want, 0);
            assertArrayEquals(want, run(m, n, k, x, w, b, act, false), 1e-5f, act.toString());
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, Gemv16.bf16(1f));
        assertEquals((short) 0x3F80, Gemv16.bf16(Float.intBitsToFloat(0x3F808000))); // tie, even stays
        assertEquals((short) 0x3F82, Gemv16.bf16(Float.intBitsToFloat(0x3F818000))); // tie, odd rounds up
        assertEquals((short) 0x3F81, Gemv16.bf16(Float.intBitsToFloat(0x3F808001))); // above the tie
        assertEquals(-2.5f, Gemv16.toFloat(Gemv16.bf16(-2.5f)));
    }

    @Test
    void bf16KernelMatchesItsScalarTwin() {
        SplittableRandom r = new SplittableRandom(4);
        for (int n : SIZES) {
            for (int m : new int[] {1, 2}) {
                int k = m == 1 ? L + 3 : L + 4; // an odd and an even number of rows of W
                float[] x = random(r, m * k), w = random(r, k * n), b = random(r, n);
                int[] p16 = new int[Gemv16.packedSize(k, n)];
                Gemv16.pack(k, n, w, 0, p16, 0);
                float[] y = new float[m * n], want = new float[m * n];
                Gemv16.dense(m, n, k, x, 0, p16, 0, b, 0, Activation.RELU, 0f, n % 2 == 1, y, 0);
                Gemv16.denseScalar(m, n, k, x, 0, w, 0, b, 0, Activation.RELU, 0f, want, 0);
                assertArrayEquals(want, y, "n=" + n + " m=" + m);
            }
        }
    }

    @Test
    void firstNonFiniteMatchesScalarTwin() {
        for (int n : SIZES) {
            float[] x = new float[n + 2];
            assertEquals(-1, Finite.firstNonFinite(x, 1, n));
            for (int at = 0; at < n; at += Math.max(1, n / 5)) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    x[1 + at] = bad;
                    assertEquals(Finite.firstNonFiniteScalar(x, 1, n), Finite.firstNonFinite(x, 1, n));
                    assertEquals(at, Finite.firstNonFinite(x, 1, n));
                    x[1 + at] = 0f;
                }
            }
            x[0] = Float.NaN; // outside the range
            x[n + 1] = Float.NaN;
            assertEquals(-1, Finite.firstNonFinite(x, 1, n));
            // finite values of every size times 0 are 0 (no overflow, -0 too); two bad values: the first one counts
            java.util.SplittableRandom r = new java.util.SplittableRandom(n);
            float[] extremes = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0f, 1e38f};
            for (int i = 1; i <= n; i++) x[i] = i % 7 == 0 ? extremes[i % extremes.length] : (float) (r.nextGaussian() * 1e30);
            assertEquals(-1, Finite.firstNonFinite(x, 1, n));
            if (n >= 2) {
                int late = n - 1, early = r.nextInt(late);
                x[1 + late] = Float.NaN;
                x[1 + early] = Float.NEGATIVE_INFINITY;
                assertEquals(early, Finite.firstNonFinite(x, 1, n));
                assertEquals(Finite.firstNonFiniteScalar(x, 1, n), Finite.firstNonFinite(x, 1, n));
            }
            java.util.Arrays.fill(x, 0f);
        }
    }
}
