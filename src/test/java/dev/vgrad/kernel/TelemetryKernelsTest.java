package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The telemetry kernels against their scalar twins, tails and long arrays included, and a hand-worked case each. */
class TelemetryKernelsTest {
    static int[] sizes() {
        int l = Simd.LANES;
        return new int[] {1, l - 1, l, l + 1, 2 * l + 3, 97, 4099 + l};
    }

    static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    static void closeSums(double[] expected, double[] actual, String what) {
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], 1e-5 * Math.abs(expected[i]) + 1e-12, what + " sum " + i);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void observedSgdEqualsPlainSgdAndItsScalarTwin(int n) {
        SplittableRandom r = new SplittableRandom(n);
        float[] g = random(r, n + 3), p0 = random(r, n + 5), u0 = random(r, n + 7);
        float[] p1 = p0.clone(), u1 = u0.clone(), p2 = p0.clone(), u2 = u0.clone(), p3 = p0.clone(), u3 = u0.clone();
        double[] s1 = new double[4], s2 = new double[4];
        Optimizers.sgd(n, g, 3, 0.1f, 0.9f, true, 1e-3f, u1, 7, p1, 5);
        Optimizers.sgdObserved(n, g, 3, 0.1f, 0.9f, true, 1e-3f, u2, 7, p2, 5, s1, 1);
        Optimizers.sgdObservedScalar(n, g, 3, 0.1f, 0.9f, true, 1e-3f, u3, 7, p3, 5, s2, 1);
        assertArrayEquals(p1, p2, "observed sgd changes the parameters exactly as sgd");
        assertArrayEquals(u1, u2);
        assertArrayEquals(p1, p3);
        closeSums(s2, s1, "sgd n=" + n);
        assertEquals(0.0, s1[0]);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void observedAdamEqualsPlainAdamAndItsScalarTwin(int n) {
        SplittableRandom r = new SplittableRandom(n + 1);
        float[] g = random(r, n), p0 = random(r, n), m0 = random(r, n), v0 = random(r, n);
        for (int i = 0; i < n; i++) v0[i] = Math.abs(v0[i]);
        for (boolean decoupled : new boolean[] {false, true}) {
            float[] p1 = p0.clone(), m1 = m0.clone(), v1 = v0.clone(), p2 = p0.clone(), m2 = m0.clone(), v2 = v0.clone();
            float[] p3 = p0.clone(), m3 = m0.clone(), v3 = v0.clone();
            double[] s1 = new double[3], s2 = new double[3];
            Optimizers.adam(n, g, 0, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.5f, 0.3f, m1, 0, v1, 0, p1, 0);
            Optimizers.adamObserved(n, g, 0, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.5f, 0.3f, m2, 0, v2, 0, p2, 0, s1, 0);
            Optimizers.adamObservedScalar(n, g, 0, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.5f, 0.3f, m3, 0, v3, 0, p3, 0, s2, 0);
            assertArrayEquals(p1, p2, "observed adam changes the parameters exactly as adam");
            assertArrayEquals(m1, m2);
            assertArrayEquals(v1, v2);
            closeSums(s2, s1, "adam n=" + n);
        }
    }

    @Test
    void observedSgdByHand() {
        // g = (3, 4), p = (1, 2), lr 0.5, no momentum: p' = (-0.5, 0); sums 25, 5, (1.5^2 + 2^2) = 6.25
        float[] g = {3, 4}, p = {1, 2};
        double[] s = new double[3];
        Optimizers.sgdObserved(2, g, 0, 0.5f, 0f, false, 0f, null, 0, p, 0, s, 0);
        assertArrayEquals(new float[] {-0.5f, 0f}, p);
        assertArrayEquals(new double[] {25, 5, 6.25}, s, 1e-12);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void reductionsEqualTheirScalarTwins(int n) {
        SplittableRandom r = new SplittableRandom(n + 2);
        float[] x = random(r, n + 4);
        assertEquals(Reductions.sumScalar(x, 4, n), Reductions.sum(x, 4, n), 1e-5 * n);
        int outside = 0;
        for (int i = 4; i < 4 + n; i++) if (x[i] < -0.5f || x[i] > 0.25f) outside++;
        assertEquals(outside, Reductions.countOutside(x, 4, n, -0.5f, 0.25f));
        int rows = 3, cols = n;
        float[] m = random(r, 2 + rows * cols);
        float[] a = new float[cols + 1], b = new float[cols + 1];
        Reductions.colMax(rows, cols, m, 2, a, 1);
        Reductions.colMaxScalar(rows, cols, m, 2, b, 1);
        assertArrayEquals(b, a);
    }

    @Test
    void reductionsByHand() {
        float[] x = {0.005f, 0.5f, 0.995f, 0.2f, 1f};
        assertEquals(2.7, Reductions.sum(x, 0, 5), 1e-6);
        assertEquals(3, Reductions.countOutside(x, 0, 5, 0.01f, 0.99f)); // 0.005, 0.995, 1
        float[] m = {0, -1, 2, 3, -4, 0}; // 2 x 3
        float[] out = new float[3];
        Reductions.colMax(2, 3, m, 0, out, 0);
        assertArrayEquals(new float[] {3, -1, 2}, out);
    }
}
