package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossesTest {
    @Test
    void softmaxCrossEntropyRowsInLanesHaveTheOneRowPathsBits() {
        // rows shorter than a vector: whole vectors of rows go one row per lane, the rest one at a time; every row
        // one at a time must give the same dz bits and the same loss
        SplittableRandom r = new SplittableRandom(11);
        int lanes = Simd.LANES;
        for (int n = 1; n < lanes; n++) {
            for (int m : new int[] {lanes, 2 * lanes + 3, lanes - 1}) {
                float[] z = new float[m * n + 1];
                for (int i = 0; i < z.length; i++) z[i] = (float) (r.nextDouble() * 8 - 4);
                z[1 + n] = 100f;                   // exp's clamp, and a row max far from the rest
                z[1 + m * n - 1] = -100f;
                float[] labels = new float[m];
                for (int i = 0; i < m; i++) labels[i] = r.nextInt(n);
                float[] dz = new float[m * n + 1], dzRows = new float[m * n + 1];
                double loss = Losses.softmaxCrossEntropy(m, n, z, 1, labels, 0, dz, 1);
                double lossRows = Losses.softmaxCrossEntropy(m, n, z, 1, labels, 0, dzRows, 1, false);
                assertEquals(lossRows, loss, 0.0, "n=" + n + " m=" + m);
                for (int q = 0; q < dz.length; q++) {
                    assertEquals(Float.floatToRawIntBits(dzRows[q]), Float.floatToRawIntBits(dz[q]), "n=" + n + " m=" + m + " at " + q);
                }
                // the loss alone (no gradient array) is the same value
                assertEquals(loss, Losses.softmaxCrossEntropy(m, n, z, 1, labels, 0, null, 0), 0.0);
            }
        }
    }

    @Test
    void softmaxCrossEntropyByHandOneRowPerLane() {
        // logits [0, ln 3] with label 1 in every row: softmax [1/4, 3/4], loss -ln(3/4), dz = ([1/4, 3/4] - [0, 1]) / m
        int m = 2 * Simd.LANES + 1;
        float[] z = new float[2 * m], labels = new float[m], dz = new float[2 * m];
        for (int i = 0; i < m; i++) {
            z[2 * i + 1] = (float) Math.log(3);
            labels[i] = 1;
        }
        assertEquals(-Math.log(0.75), Losses.softmaxCrossEntropy(m, 2, z, 0, labels, 0, dz, 0), 1e-6);
        for (int i = 0; i < m; i++) {
            assertEquals(0.25f / m, dz[2 * i], 1e-7f, "row " + i);
            assertEquals(-0.25f / m, dz[2 * i + 1], 1e-7f, "row " + i);
        }
    }
}
