package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every vector kernel against its scalar twin at sizes around the lane count (so tails run) and at
 * offsets inside larger arrays. Tolerances: elementwise ops exact or within a few float ulps (activations now
 * equal their twins bitwise: both take exp and tanh from Exp); sums within k * 1e-6 relative (order differs).
 */
class KernelTwinsTest {
    static int[] sizes() {
        int l = Simd.LANES;
        return new int[] {1, 2, l - 1, l, l + 1, 2 * l - 1, 2 * l + 1, 3 * l + 5, 31, 97};
    }

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    static void close(float[] expected, float[] actual, double rel, double abs, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double tol = abs + rel * Math.abs(expected[i]);
            assertEquals(expected[i], actual[i], tol, what + " at " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void gemmFormsEqualTheirScalarTwins(int n) {
        SplittableRandom r = new SplittableRandom(n);
        int m = n + 2, k = 2 * n + 1;
        for (boolean acc : new boolean[] {false, true}) {
            float[] a = random(r, 3 + m * k, 1), b = random(r, 5 + k * n, 1), c0 = random(r, 7 + m * n, 1);
            float[] c1 = c0.clone(), c2 = c0.clone();
            Gemm.nn(m, n, k, a, 3, b, 5, c1, 7, acc);
            Gemm.nnScalar(m, n, k, a, 3, b, 5, c2, 7, acc);
            close(c2, c1, 1e-5, 1e-5 * k, "nn");
            float[] bt = random(r, 5 + n * k, 1);
            c1 = c0.clone();
            c2 = c0.clone();
            Gemm.nt(m, n, k, a, 3, bt, 5, c1, 7, acc);
            Gemm.ntScalar(m, n, k, a, 3, bt, 5, c2, 7, acc);
            close(c2, c1, 1e-5, 1e-5 * k, "nt");
            float[] at = random(r, 3 + k * m, 1);
            c1 = c0.clone();
            c2 = c0.clone();
            Gemm.tn(m, n, k, at, 3, b, 5, c1, 7, acc);
            Gemm.tnScalar(m, n, k, at, 3, b, 5, c2, 7, acc);
            close(c2, c1, 1e-5, 1e-5 * k, "tn");
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void activationsAndDerivativesEqualTheirScalarTwins(int n) {
        SplittableRandom r = new SplittableRandom(n);
        for (Activation act : Activation.values()) {
            float alpha = act == Activation.LEAKY_RELU ? 0.1f : 0f;
            float[] x = random(r, n + 4, 4);
            float[] y1 = new float[n + 4], y2 = new float[n + 4];
            Activations.forward(act, alpha, x, 4, y1, 4, n);
            Activations.forwardScalar(act, alpha, x, 4, y2, 4, n);
            close(y2, y1, 3e-7, 1e-7, act + " forward");
            float[] v = act.derivativeFromOutput() ? y2 : x;
            float[] dy = random(r, n + 4, 1);
            for (boolean acc : new boolean[] {false, true}) {
                float[] dx0 = random(r, n + 4, 1);
                float[] d1 = dx0.clone(), d2 = dx0.clone();
                Activations.backward(act, alpha, v, 4, dy, 4, d1, 4, n, acc);
                Activations.backwardScalar(act, alpha, v, 4, dy, 4, d2, 4, n, acc);
                // GELU's derivative is 0.5 (1 + t) + ...: for x < -2 terms of size 1 cancel, so compare with an absolute
                // bound of a few float ulps of 1 (the twin evaluates in double, the vector kernel in float)
                close(d2, d1, 1e-6, 1e-6, act + " backward");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void biasSoftmaxLossesAndElementwiseEqualTheirScalarTwins(int n) {
        SplittableRandom r = new SplittableRandom(31 * n);
        int m = 3;
        float[] b = random(r, n + 1, 1);
        for (Activation act : Activation.values()) {
            float[] y0 = random(r, m * n + 2, 3);
            float[] y1 = y0.clone(), y2 = y0.clone();
            float[] z1 = new float[m * n + 2], z2 = new float[m * n + 2];
            Bias.biasActivation(m, n, b, 1, act, 0.2f, y1, 2, z1, 2);
            Bias.biasActivationScalar(m, n, b, 1, act, 0.2f, y2, 2, z2, 2);
            close(y2, y1, 3e-7, 1e-7, "biasActivation " + act);
            close(z2, z1, 0, 0, "pre-activation " + act);
        }
        float[] dy = random(r, m * n + 2, 1);
        float[] db1 = random(r, n + 1, 1), db2 = db1.clone();
        Bias.colSum(m, n, dy, 2, db1, 1, true);
        Bias.colSumScalar(m, n, dy, 2, db2, 1, true);
        close(db2, db1, 1e-6, 1e-6, "colSum");

        float[] x = random(r, m * n + 1, 5);
        float[] s1 = new float[m * n + 1], s2 = new float[m * n + 1];
        Softmax.forward(m, n, x, 1, s1, 1);
        Softmax.forwardScalar(m, n, x, 1, s2, 1);
        close(s2, s1, 1e-6, 1e-7, "softmax");
        Softmax.logForward(m, n, x, 1, s1, 1);
        Softmax.logForwardScalar(m, n, x, 1, s2, 1);
        close(s2, s1, 1e-6, 1e-6, "log-softmax");
        Softmax.forwardScalar(m, n, x, 1, s2, 1);
        float[] g1 = new float[m * n + 1], g2 = new float[m * n + 1];
        Softmax.backward(m, n, s2, 1, dy, 1, g1, 1, false);
        Softmax.backwardScalar(m, n, s2, 1, dy, 1, g2, 1, false);
        close(g2, g1, 1e-5, 1e-6, "softmax backward");

        float[] labels = new float[m];
        for (int i = 0; i < m; i++) labels[i] = r.nextInt(n);
        float[] dz1 = new float[m * n + 1], dz2 = new float[m * n + 1];
        double l1 = Losses.softmaxCrossEntropy(m, n, x, 1, labels, 0, dz1, 1);
        double l2 = Losses.softmaxCrossEntropyScalar(m, n, x, 1, labels, 0, dz2, 1);
        assertEquals(l2, l1, 1e-5 * Math.max(1, Math.abs(l2)));
        close(dz2, dz1, 1e-5, 1e-7, "softmax-CE gradient");
        float[] t = random(r, m * n + 1, 1);
        assertEquals(Losses.mseScalar(m * n, x, 1, t, 1, dz2, 1), Losses.mse(m * n, x, 1, t, 1, dz1, 1), 1e-5);
        close(dz2, dz1, 1e-6, 1e-7, "mse gradient");
        float[] t01 = new float[m * n + 1];
        for (int i = 0; i < t01.length; i++) t01[i] = r.nextInt(2);
        assertEquals(Losses.bceWithLogitsScalar(m * n, x, 1, t01, 1, dz2, 1), Losses.bceWithLogits(m * n, x, 1, t01, 1, dz1, 1), 1e-5);
        close(dz2, dz1, 1e-5, 1e-7, "bce gradient");

        float[] a = random(r, n + 3, 1), c = random(r, n + 3, 1);
        float[] e1 = new float[n + 3], e2 = new float[n + 3];
        Elementwise.add(a, 3, c, 3, e1, 3, n);
        Elementwise.addScalar(a, 3, c, 3, e2, 3, n);
        close(e2, e1, 0, 0, "add");
        Elementwise.mul(a, 3, c, 3, e1, 3, n);
        Elementwise.mulScalar(a, 3, c, 3, e2, 3, n);
        close(e2, e1, 0, 0, "mul");
        Elementwise.accumulate(a, 3, e1, 3, n, true);
        Elementwise.accumulateScalar(a, 3, e2, 3, n, true);
        close(e2, e1, 0, 0, "accumulate");
        Elementwise.mulAccumulate(a, 3, c, 3, e1, 3, n, true);
        Elementwise.mulAccumulateScalar(a, 3, c, 3, e2, 3, n, true);
        close(e2, e1, 0, 0, "mulAccumulate");
        assertEquals(Elementwise.sumSquaresScalar(a, 3, n), Elementwise.sumSquares(a, 3, n), 1e-5 * n);
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void optimizerUpdatesEqualTheirScalarTwins(int n) {
        SplittableRandom r = new SplittableRandom(7 * n);
        float[] g = random(r, n + 2, 1);
        for (boolean nesterov : new boolean[] {false, true}) {
            float[] p1 = random(r, n + 2, 1), p2 = p1.clone();
            float[] u1 = random(r, n + 2, 1), u2 = u1.clone();
            Optimizers.sgd(n, g, 2, 0.1f, 0.9f, nesterov, 0.01f, u1, 2, p1, 2);
            Optimizers.sgdScalar(n, g, 2, 0.1f, 0.9f, nesterov, 0.01f, u2, 2, p2, 2);
            close(p2, p1, 0, 0, "sgd params");
            close(u2, u1, 0, 0, "sgd momentum");
        }
        for (boolean decoupled : new boolean[] {false, true}) {
            float[] p1 = random(r, n + 2, 1), p2 = p1.clone();
            float[] m1 = random(r, n + 2, 0.1), m2 = m1.clone();
            float[] v1 = random(r, n + 2, 0.1), v2 = v1.clone();
            for (int i = 0; i < v1.length; i++) v1[i] = v2[i] = Math.abs(v1[i]);
            Optimizers.adam(n, g, 2, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.19f, 0.002f, m1, 2, v1, 2, p1, 2);
            Optimizers.adamScalar(n, g, 2, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, 0.19f, 0.002f, m2, 2, v2, 2, p2, 2);
            close(p2, p1, 1e-7, 1e-8, "adam params");
            close(m2, m1, 0, 0, "adam m");
            close(v2, v1, 0, 0, "adam v");
        }
    }
}
