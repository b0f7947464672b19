package dev.vgrad.train.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.train.Trainer;
import dev.vgrad.train.demo.VanishingDemo.Result;
import dev.vgrad.train.demo.VanishingDemo.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

class VanishingDemoTest {
    static final int L = VanishingDemo.LAYERS;

    /**
     * The closed form of the first step's gradients: with a_0 = x, z_i = w_i a_{i-1} + b_i, a_i = sigma(z_i)
     * and L = mean((a_5 - t)^2), for each row
     * dL/db_i = 2 (a_5 - t) / n * prod_{j=i..5} sigma'(z_j) * prod_{j=i+1..5} w_j and dL/dw_i = a_{i-1} dL/db_i,
     * sigma'(z) = a (1 - a); summed over the rows.
     */
    static double[][] closedForm(double[] w, double[] b, float[] x, float[] t) {
        int n = x.length;
        double[] dw = new double[L], db = new double[L];
        for (int r = 0; r < n; r++) {
            double[] a = new double[L + 1];
            a[0] = x[r];
            for (int i = 1; i <= L; i++) a[i] = 1 / (1 + Math.exp(-(w[i - 1] * a[i - 1] + b[i - 1])));
            double seed = 2 * (a[L] - t[r]) / n;
            for (int i = 1; i <= L; i++) {
                double prod = seed;
                for (int j = i; j <= L; j++) prod *= a[j] * (1 - a[j]);
                for (int j = i + 1; j <= L; j++) prod *= w[j - 1];
                db[i - 1] += prod;
                dw[i - 1] += prod * a[i - 1];
            }
        }
        return new double[][] {dw, db};
    }

    @Test
    void firstStepGradientsAreTheClosedFormProductsOfSigmoidDerivativesAndWeights() {
        long seed = 1;
        Trainer t = VanishingDemo.trainer(Variant.SIGMOID, 0.5f, seed);
        double[] w = new double[L], b = new double[L];
        for (int l = 0; l < L; l++) {
            w[l] = t.param("l" + (l + 1) + ".W")[0];
            b[l] = t.param("l" + (l + 1) + ".b")[0];
        }
        float[] x = VanishingDemo.inputs(VanishingDemo.ROWS), y = VanishingDemo.targets(x);
        double[][] cf = closedForm(w, b, x, y);
        t.gradients(x, y, VanishingDemo.ROWS);
        Result r = VanishingDemo.run(Variant.SIGMOID, 20, 0.5f, seed);
        for (int l = 0; l < L; l++) {
            double gw = t.grad("l" + (l + 1) + ".W")[0], gb = t.grad("l" + (l + 1) + ".b")[0];
            assertEquals(cf[0][l], gw, 1e-4 * Math.abs(cf[0][l]) + 1e-9, "dL/dw of layer " + (l + 1));
            assertEquals(cf[1][l], gb, 1e-4 * Math.abs(cf[1][l]) + 1e-9, "dL/db of layer " + (l + 1));
            // the demo's step-0 figure is the telemetry's norm of the same gradient
            double norm = Math.hypot(cf[0][l], cf[1][l]);
            assertEquals(norm, r.gradStart()[l], 1e-4 * norm, "step-0 gradient norm of layer " + (l + 1));
        }
        // and it vanishes: every layer gets less than the next, the first under 1% of the last
        for (int l = 0; l < L - 1; l++) assertTrue(r.gradStart()[l] < r.gradStart()[l + 1], "layer " + (l + 1) + " vs " + (l + 2));
        assertTrue(r.startRatio(0) < 0.01, "l1 / l5 = " + r.startRatio(0));
    }

    @Test
    void aHandWorkedChainMatchesTheClosedForm() {
        // all w = 1, b = 0, one row x = 0, t = 0: a_1 = 1/2, sigma'_1 = 1/4; a_2 = sigma(1/2) ...
        double[] w = {1, 1, 1, 1, 1}, b = {0, 0, 0, 0, 0};
        double a = 0.5, prodAll = 0.25;
        double[] as = new double[L + 1];
        as[0] = 0;
        as[1] = a;
        for (int i = 2; i <= L; i++) {
            as[i] = 1 / (1 + Math.exp(-as[i - 1]));
            prodAll *= as[i] * (1 - as[i]);
        }
        double[][] cf = closedForm(w, b, new float[] {0f}, new float[] {0f});
        // dL/db_1 = 2 a_5 * prod of all five sigma' (every w is 1); dL/dw_1 = x dL/db_1 = 0
        assertEquals(2 * as[L] * prodAll, cf[1][0], 1e-15);
        assertEquals(0.0, cf[0][0], 0.0);
        assertTrue(prodAll < Math.pow(0.25, 5) * 1.0001 && prodAll > 0);
    }

    @Test
    void reluWithHeKeepsTheGradientAndTanhDecaysLessThanSigmoid() {
        List<Result> all = VanishingDemo.runAll(200, 1);
        Result sigmoid = all.get(0), relu = all.get(1), tanh = all.get(2);
        assertEquals(Variant.RELU_HE, relu.variant());
        assertTrue(relu.startRatio(0) > 0.1, "relu l1 / l5 = " + relu.startRatio(0));
        assertTrue(tanh.startRatio(0) > 10 * sigmoid.startRatio(0), "tanh " + tanh.startRatio(0) + " sigmoid " + sigmoid.startRatio(0));
        for (Result r : all) {
            assertEquals(200, r.losses().length);
            assertTrue(Double.isFinite(r.losses()[199]));
            assertEquals(L, r.history().length);
            assertEquals(r.gradStart()[0], r.history()[0][0], 0.0);
        }
        String report = VanishingDemo.report(all);
        assertTrue(report.contains("sigmoid (seed 1, lr 0.5, 200 steps)"), report);
        assertTrue(report.contains("relu-he (seed") && report.contains("tanh (seed 1"), report);
    }
}
