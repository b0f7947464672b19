package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Losses, each returning the mean loss and, when the gradient array is not null, writing dL/dinput
 * in the same pass (the seed of the backward pass). Labels are class indices stored as floats.
 */
public final class Losses {
    private Losses() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /**
     * L = -1/m sum_i log softmax(z_i)[label_i];  dz[i,j] = (softmax(z_i)[j] - [j == label_i]) / m
     */
    public static double softmaxCrossEntropy(int m, int n, float[] z, int zOff, float[] labels, int labOff, float[] dz, int dzOff) {
        return softmaxCrossEntropy(m, n, z, zOff, labels, labOff, dz, dzOff, n < S.length());
    }

    /** {@link #softmaxCrossEntropy}, with {@code inLanes} false every row one at a time (tests compare the two). */
    static double softmaxCrossEntropy(int m, int n, float[] z, int zOff, float[] labels, int labOff, float[] dz, int dzOff,
                                      boolean inLanes) {
        double loss = 0;
        float invM = 1f / m;
        int i = 0;
        if (inLanes) {
            // rows shorter than a vector (10 classes): a vector of rows at a time, one row per lane
            for (; i + S.length() <= m; i += S.length()) loss = rowsInLanes(i, n, z, zOff, labels, labOff, dz, dzOff, invM, loss);
        }
        // rows of a vector or more, and the last rows: one at a time
        for (; i < m; i++) {
            int zi = zOff + i * n;
            int label = (int) labels[labOff + i];
            float max = Softmax.rowMax(z, zi, n);
            // exp(z - max) into dz's row (or only summed, without dz): the same sum either way
            int di = dzOff + i * n;
            float sum = Exp.exp(z, zi, max, 1f, dz, di, n);
            if (dz != null) {
                Softmax.scale(dz, di, n, invM / sum);
                dz[di + label] -= invM;
            }
            loss += Math.log(sum) + max - z[zi + label];
        }
        return loss / m;
    }

    /** Per thread: n x L floats of a block of rows transposed (column j at [j*L, j*L + L)), then L maxima and L sums. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[(16 + 2) * S.length()]);

    /**
     * {@link #softmaxCrossEntropy}'s rows [i0, i0 + L) for n < L (at most 16), one row per lane: the block transposed into a
     * scratch, the row maxima, exp(z - max) over all of it by whole vectors, the sums column after column, dz and
     * the loss terms in row order. Every operation is the one-row path's, in its order (the max over the row, each
     * exp, the sum e0 + e1 + ... as the short row's tail adds it, invM / sum), so the bits are the same (up to the
     * payload of a NaN logit, which inputs and parameters never carry: both are checked finite); a row at a
     * time was latency-bound (about 250 cycles a row for 10 classes: 7.7-10 us for the MLP's 128 x 10).
     * Returns {@code loss} plus the block's terms.
     */
    private static double rowsInLanes(int i0, int n, float[] z, int zOff, float[] labels, int labOff, float[] dz, int dzOff,
                                      float invM, double loss) {
        int lanes = S.length(), maxAt = n * lanes, sumAt = maxAt + lanes;
        float[] t = LANES.get();
        for (int l = 0; l < lanes; l++) {
            int zi = zOff + (i0 + l) * n;
            for (int j = 0; j < n; j++) t[j * lanes + l] = z[zi + j];
        }
        FloatVector max = FloatVector.fromArray(S, t, 0);
        for (int j = 1; j < n; j++) max = max.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, t, j * lanes));
        max.intoArray(t, maxAt);
        for (int j = 0; j < n; j++) FloatVector.fromArray(S, t, j * lanes).lanewise(VectorOperators.SUB, max).intoArray(t, j * lanes);
        Exp.exp(t, 0, 0f, 1f, t, 0, maxAt);
        FloatVector sum = FloatVector.fromArray(S, t, 0);
        for (int j = 1; j < n; j++) sum = sum.lanewise(VectorOperators.ADD, FloatVector.fromArray(S, t, j * lanes));
        sum.intoArray(t, sumAt);
        if (dz != null) {
            FloatVector scale = FloatVector.broadcast(S, invM).lanewise(VectorOperators.DIV, sum);
            for (int j = 0; j < n; j++) FloatVector.fromArray(S, t, j * lanes).lanewise(VectorOperators.MUL, scale).intoArray(t, j * lanes);
            for (int l = 0; l < lanes; l++) {
                int di = dzOff + (i0 + l) * n;
                for (int j = 0; j < n; j++) dz[di + j] = t[j * lanes + l];
                dz[di + (int) labels[labOff + i0 + l]] -= invM;
            }
        }
        for (int l = 0; l < lanes; l++) {
            int label = (int) labels[labOff + i0 + l];
            loss += Math.log(t[sumAt + l]) + t[maxAt + l] - z[zOff + (i0 + l) * n + label];
        }
        return loss;
    }

    /** Scalar twin of {@link #softmaxCrossEntropy}. */
    public static double softmaxCrossEntropyScalar(int m, int n, float[] z, int zOff, float[] labels, int labOff, float[] dz, int dzOff) {
        double loss = 0;
        for (int i = 0; i < m; i++) {
            int zi = zOff + i * n;
            int label = (int) labels[labOff + i];
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, z[zi + j]);
            float sum = 0f;
            for (int j = 0; j < n; j++) sum += (float) Math.exp(z[zi + j] - max);
            if (dz != null) {
                for (int j = 0; j < n; j++) {
                    dz[dzOff + i * n + j] = (float) Math.exp(z[zi + j] - max) / sum / m - (j == label ? 1f / m : 0f);
                }
            }
            loss += Math.log(sum) + max - z[zi + label];
        }
        return loss / m;
    }

    /** L = 1/n sum_i (p[i] - t[i])^2;  dp[i] = 2 (p[i] - t[i]) / n */
    public static double mse(int n, float[] p, int pOff, float[] t, int tOff, float[] dp, int dpOff) {
        int nv = S.loopBound(n);
        float scale = 2f / n;
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, p, pOff + i).sub(FloatVector.fromArray(S, t, tOff + i));
            acc = d.fma(d, acc);
            if (dp != null) d.mul(scale).intoArray(dp, dpOff + i);
        }
        // fixed-order lane sum, written out here: a vector passed to a call C2 does not inline is boxed
        if (Simd.LANES > 8) acc = acc.add(acc.rearrange(Simd.R8));
        if (Simd.LANES > 4) acc = acc.add(acc.rearrange(Simd.R4));
        if (Simd.LANES > 2) acc = acc.add(acc.rearrange(Simd.R2));
        if (Simd.LANES > 1) acc = acc.add(acc.rearrange(Simd.R1));
        double loss = acc.lane(0);
        // tail
        for (; i < n; i++) {
            float d = p[pOff + i] - t[tOff + i];
            loss += d * d;
            if (dp != null) dp[dpOff + i] = d * scale;
        }
        return loss / n;
    }

    /** Scalar twin of {@link #mse}. */
    public static double mseScalar(int n, float[] p, int pOff, float[] t, int tOff, float[] dp, int dpOff) {
        double loss = 0;
        for (int i = 0; i < n; i++) {
            float d = p[pOff + i] - t[tOff + i];
            loss += d * d;
            if (dp != null) dp[dpOff + i] = d * 2f / n;
        }
        return loss / n;
    }

    /**
     * L = 1/n sum_i max(z,0) - z t + log(1 + exp(-|z|));  dz[i] = (sigmoid(z[i]) - t[i]) / n. The loss is summed in
     * scalar, in order (log1p has no vector form whose bits are the same in every JIT tier); dz by vectors.
     */
    public static double bceWithLogits(int n, float[] z, int zOff, float[] t, int tOff, float[] dz, int dzOff) {
        double loss = 0;
        for (int i = 0; i < n; i++) {
            float zz = z[zOff + i];
            loss += Math.max(zz, 0f) - zz * t[tOff + i] + (float) Math.log1p(Exp.exp(-Math.abs(zz)));
        }
        if (dz != null) {
            // exp(-z) into dz, then (1 / (1 + dz) - t) / n
            Exp.exp(z, zOff, 0f, -1f, dz, dzOff, n);
            float inv = 1f / n;
            FloatVector one = FloatVector.broadcast(S, 1f);
            int i = 0;
            for (int nv = S.loopBound(n); i < nv; i += S.length()) {
                one.div(FloatVector.fromArray(S, dz, dzOff + i).add(one)).sub(FloatVector.fromArray(S, t, tOff + i)).mul(inv).intoArray(dz, dzOff + i);
            }
            // tail
            for (; i < n; i++) dz[dzOff + i] = (1f / (dz[dzOff + i] + 1f) - t[tOff + i]) * inv;
        }
        return loss / n;
    }

    /** Scalar twin of {@link #bceWithLogits}. */
    public static double bceWithLogitsScalar(int n, float[] z, int zOff, float[] t, int tOff, float[] dz, int dzOff) {
        double loss = 0;
        for (int i = 0; i < n; i++) {
            float zz = z[zOff + i], tt = t[tOff + i];
            loss += Math.max(zz, 0f) - zz * tt + (float) Math.log1p((float) Math.exp(-Math.abs(zz)));
            if (dz != null) dz[dzOff + i] = (1f / ((float) Math.exp(-zz) + 1f) - tt) * (1f / n);
        }
        return loss / n;
    }
}
