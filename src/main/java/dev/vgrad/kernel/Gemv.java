package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense layers for a few rows at a time (serving latency): y = act(x W + b) with W pre-packed once, at
 * load, into column panels that the kernel streams front to back.
 *
 * <p>Packed layout of a (k, n) weight matrix: columns are cut into panels, {@link #WIDE} vectors wide while
 * at least that many real columns remain, then one vector wide; the last panel is padded with zero columns
 * to a whole vector. Panel q starting at column c0 with width w holds rows p = 0..k-1 of W[p, c0..c0+w) one after
 * another, at packed offset k * c0. A row of output is thus one sequential stream over the whole layer.
 *
 * <p>Each output is summed over p in order with fma, starting from 0, then the bias is added and the
 * activation applied: the arithmetic of {@link Gemm#nn} followed by {@link Bias#biasActivation} for layers
 * wider than one vector, so for those the results are bitwise the training plan's forward pass (Gemm may
 * sum narrower layers in another order; the Predictor runs those through Gemm itself). {@code reverse} visits the
 * panels last to first, which changes no result, only the order the weights are read in (see Predictor).
 */
public final class Gemv {
    private Gemv() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;
    private static final int L = S.length();
    /** Vectors per wide panel: 4 accumulators per row hide the fma latency. */
    public static final int WIDE = 4;

    /** Floats in the packed form of a (k, n) matrix: n rounded up to whole vectors, times k. */
    public static int packedSize(int k, int n) {
        return k * roundUp(n);
    }

    /** n rounded up to a whole number of vectors. */
    public static int roundUp(int n) {
        return (n + L - 1) / L * L;
    }

    /** packed = W (k, n) row-major cut into column panels (layout in the class comment), zero-padded. */
    public static void pack(int k, int n, float[] w, int wOff, float[] packed, int pOff) {
        int np = roundUp(n);
        java.util.Arrays.fill(packed, pOff, pOff + k * np, 0f);
        for (int c0 = 0; c0 < np; ) {
            int width = panelWidth(c0, n);
            int base = pOff + k * c0;
            // panel rows, one after another
            for (int p = 0; p < k; p++) {
                int valid = Math.min(width, n - c0);
                System.arraycopy(w, wOff + p * n + c0, packed, base + p * width, valid);
            }
            c0 += width;
        }
    }

    /** The width of the panel that starts at column c0 of a layer with n columns. */
    static int panelWidth(int c0, int n) {
        return n - c0 >= WIDE * L ? WIDE * L : L;
    }

    /** y[r,j] = act(sum_p x[r,p] W[p,j] + b[j]) for r < m, j < n; W packed by {@link #pack}, b holds n floats. */
    public static void dense(int m, int n, int k, float[] x, int xOff, float[] wp, int wpOff, float[] b, int bOff,
                             Activation act, float alpha, boolean reverse, float[] y, int yOff) {
        int np = roundUp(n);
        int r = 0;
        // four rows share each weight load
        for (; r + 4 <= m; r += 4) {
            panels(4, n, np, k, x, xOff + r * k, wp, wpOff, b, bOff, reverse, y, yOff + r * n);
        }
        // tail: one row at a time
        for (; r < m; r++) {
            panels(1, n, np, k, x, xOff + r * k, wp, wpOff, b, bOff, reverse, y, yOff + r * n);
        }
        // the activation, in place over each row (vector loop and scalar tail as Bias.biasActivation)
        if (act != Activation.IDENTITY) {
            for (r = 0; r < m; r++) Activations.forward(act, alpha, y, yOff + r * n, y, yOff + r * n, n);
        }
    }

    /** nz[0..c) = the indices p < k with x[p] != 0, in order; returns c. */
    public static int nonZeros(int k, float[] x, int xOff, int[] nz) {
        int c = 0;
        for (int p = 0; p < k; p++) {
            nz[c] = p;
            c += x[xOff + p] != 0f ? 1 : 0; // branch-free: a zero's slot is overwritten by the next index
        }
        return c;
    }

    /**
     * One row, reading only the rows p of W listed in nz (the nonzero inputs, from {@link #nonZeros}):
     * y[j] = act(sum_{p in nz} x[p] W[p,j] + b[j]). Bitwise {@link #dense}'s row: a skipped term is
     * fma(0, w, s) = s + (±0) = s, because a sum that starts at +0 is never -0 (round to nearest gives +0 for
     * exact cancellation), and weights are finite. After a ReLU about half the inputs are zero, and so are
     * most pixels of images like MNIST: those rows of W are never read.
     */
    public static void denseRowSparse(int n, int k, float[] x, int xOff, int[] nz, int nnz, float[] wp, int wpOff, float[] b, int bOff,
                                      Activation act, float alpha, boolean reverse, float[] y, int yOff) {
        int np = roundUp(n);
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        int wide = wideEnd / (WIDE * L);
        int panels = wide + (np - wideEnd) / L;
        for (int i = 0; i < panels; i++) {
            int q = reverse ? panels - 1 - i : i;
            int c0 = q < wide ? q * WIDE * L : wideEnd + (q - wide) * L;
            int base = wpOff + k * c0;
            if (c0 < wideEnd) wide1Sparse(x, xOff, nz, nnz, wp, base, b, bOff + c0, y, yOff + c0);
            else narrow1Sparse(Math.min(L, n - c0), x, xOff, nz, nnz, wp, base, b, bOff + c0, y, yOff + c0);
        }
        if (act != Activation.IDENTITY) Activations.forward(act, alpha, y, yOff, y, yOff, n);
    }

    /** One row, one wide panel, the listed rows only: y[j] = sum_{p in nz} x[p] P[p, j] + b[j]. */
    private static void wide1Sparse(float[] x, int xOff, int[] nz, int nnz, float[] wp, int base, float[] b, int bOff,
                                    float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < nnz; i++) {
            int p = nz[i], w = base + p * (WIDE * L);
            FloatVector xp = FloatVector.broadcast(S, x[xOff + p]);
            a0 = FloatVector.fromArray(S, wp, w).fma(xp, a0);
            a1 = FloatVector.fromArray(S, wp, w + L).fma(xp, a1);
            a2 = FloatVector.fromArray(S, wp, w + 2 * L).fma(xp, a2);
            a3 = FloatVector.fromArray(S, wp, w + 3 * L).fma(xp, a3);
        }
        a0.add(FloatVector.fromArray(S, b, bOff)).intoArray(y, yOff);
        a1.add(FloatVector.fromArray(S, b, bOff + L)).intoArray(y, yOff + L);
        a2.add(FloatVector.fromArray(S, b, bOff + 2 * L)).intoArray(y, yOff + 2 * L);
        a3.add(FloatVector.fromArray(S, b, bOff + 3 * L)).intoArray(y, yOff + 3 * L);
    }

    /** One row, one single-vector panel, the listed rows only. */
    private static void narrow1Sparse(int valid, float[] x, int xOff, int[] nz, int nnz, float[] wp, int base, float[] b, int bOff,
                                      float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < nnz; i++) {
            int p = nz[i];
            a0 = FloatVector.fromArray(S, wp, base + p * L).fma(FloatVector.broadcast(S, x[xOff + p]), a0);
        }
        // the sums under a mask, then + b (as narrow1)
        a0.intoArray(y, yOff, S.indexInRange(0, valid));
        addBias(valid, b, bOff, y, yOff);
    }

    /** Column panels of a layer with n columns. */
    public static int panelCount(int n) {
        int wide = n / (WIDE * L);
        return wide + (roundUp(n) - wide * WIDE * L) / L;
    }

    /** The first column of panel q of a layer with n columns (q = panelCount(n) gives the padded end). */
    public static int panelStart(int q, int n) {
        int wide = n / (WIDE * L);
        return q <= wide ? q * WIDE * L : wide * WIDE * L + (q - wide) * L;
    }

    /**
     * One row, panels [from, to) only: y[j] = act(sum_p x[p] W[p,j] + b[j]) for the columns those panels
     * cover (below n). Two threads running disjoint panel ranges of one row together compute exactly
     * {@link #dense}'s row: each column's arithmetic, the activation's vector or scalar path included, is
     * the same.
     */
    public static void denseRowPanels(int n, int k, float[] x, int xOff, float[] wp, int wpOff, float[] b, int bOff,
                                      Activation act, float alpha, int from, int to, float[] y, int yOff) {
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        for (int q = from; q < to; q++) {
            int c0 = panelStart(q, n);
            if (c0 < wideEnd) wide1(k, x, xOff, wp, wpOff + k * c0, b, bOff + c0, y, yOff + c0);
            else narrow1(k, Math.min(L, n - c0), x, xOff, wp, wpOff + k * c0, b, bOff + c0, y, yOff + c0);
        }
        // the activation over the columns done here; they start on a whole vector, so each column takes
        // the same vector or scalar path as in a pass over the whole row
        int c0 = panelStart(from, n), c1 = Math.min(n, panelStart(to, n));
        if (act != Activation.IDENTITY && c1 > c0) Activations.forward(act, alpha, y, yOff + c0, y, yOff + c0, c1 - c0);
    }

    private static void panels(int rows, int n, int np, int k, float[] x, int xOff, float[] wp, int wpOff, float[] b, int bOff,
                              boolean reverse, float[] y, int yOff) {
        int wideEnd = n / (WIDE * L) * (WIDE * L);
        int wide = wideEnd / (WIDE * L);
        int panels = wide + (np - wideEnd) / L;
        // panels front to back (or back to front): each is one sequential stream of k * width floats
        for (int i = 0; i < panels; i++) {
            int q = reverse ? panels - 1 - i : i;
            int c0 = q < wide ? q * WIDE * L : wideEnd + (q - wide) * L;
            int base = wpOff + k * c0;
            if (c0 < wideEnd) {
                if (rows == 4) wide4(k, n, x, xOff, wp, base, b, bOff + c0, y, yOff + c0);
                else wide1(k, x, xOff, wp, base, b, bOff + c0, y, yOff + c0);
            } else {
                int valid = Math.min(L, n - c0);
                if (rows == 4) narrow4(k, n, valid, x, xOff, wp, base, b, bOff + c0, y, yOff + c0);
                else narrow1(k, valid, x, xOff, wp, base, b, bOff + c0, y, yOff + c0);
            }
        }
    }

    /** One row, one wide panel: y[j] = sum_p x[p] P[p, j] + b[j], j < WIDE * L. */
    private static void wide1(int k, float[] x, int xOff, float[] wp, int base, float[] b, int bOff,
                              float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0, w = base; p < k; p++, w += WIDE * L) {
            FloatVector xp = FloatVector.broadcast(S, x[xOff + p]);
            a0 = FloatVector.fromArray(S, wp, w).fma(xp, a0);
            a1 = FloatVector.fromArray(S, wp, w + L).fma(xp, a1);
            a2 = FloatVector.fromArray(S, wp, w + 2 * L).fma(xp, a2);
            a3 = FloatVector.fromArray(S, wp, w + 3 * L).fma(xp, a3);
        }
        // y = sums + b (vectors stay in this method's locals: no call takes one)
        a0.add(FloatVector.fromArray(S, b, bOff)).intoArray(y, yOff);
        a1.add(FloatVector.fromArray(S, b, bOff + L)).intoArray(y, yOff + L);
        a2.add(FloatVector.fromArray(S, b, bOff + 2 * L)).intoArray(y, yOff + 2 * L);
        a3.add(FloatVector.fromArray(S, b, bOff + 3 * L)).intoArray(y, yOff + 3 * L);
    }

    /** Four rows (x and y rows k and n apart), one wide panel. */
    private static void wide4(int k, int n, float[] x, int xOff, float[] wp, int base, float[] b, int bOff,
                              float[] y, int yOff) {
        FloatVector z = FloatVector.zero(S);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        for (int p = 0, w = base; p < k; p++, w += WIDE * L) {
            FloatVector w0 = FloatVector.fromArray(S, wp, w), w1 = FloatVector.fromArray(S, wp, w + L);
            FloatVector w2 = FloatVector.fromArray(S, wp, w + 2 * L), w3 = FloatVector.fromArray(S, wp, w + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, x[xOff + p]);
            a00 = w0.fma(x0, a00); a01 = w1.fma(x0, a01); a02 = w2.fma(x0, a02); a03 = w3.fma(x0, a03);
            FloatVector x1 = FloatVector.broadcast(S, x[xOff + k + p]);
            a10 = w0.fma(x1, a10); a11 = w1.fma(x1, a11); a12 = w2.fma(x1, a12); a13 = w3.fma(x1, a13);
            FloatVector x2 = FloatVector.broadcast(S, x[xOff + 2 * k + p]);
            a20 = w0.fma(x2, a20); a21 = w1.fma(x2, a21); a22 = w2.fma(x2, a22); a23 = w3.fma(x2, a23);
            FloatVector x3 = FloatVector.broadcast(S, x[xOff + 3 * k + p]);
            a30 = w0.fma(x3, a30); a31 = w1.fma(x3, a31); a32 = w2.fma(x3, a32); a33 = w3.fma(x3, a33);
        }
        // y = sums + b, row by row
        FloatVector b0 = FloatVector.fromArray(S, b, bOff), b1 = FloatVector.fromArray(S, b, bOff + L);
        FloatVector b2 = FloatVector.fromArray(S, b, bOff + 2 * L), b3 = FloatVector.fromArray(S, b, bOff + 3 * L);
        int y1 = yOff + n, y2 = yOff + 2 * n, y3 = yOff + 3 * n;
        a00.add(b0).intoArray(y, yOff); a01.add(b1).intoArray(y, yOff + L); a02.add(b2).intoArray(y, yOff + 2 * L); a03.add(b3).intoArray(y, yOff + 3 * L);
        a10.add(b0).intoArray(y, y1); a11.add(b1).intoArray(y, y1 + L); a12.add(b2).intoArray(y, y1 + 2 * L); a13.add(b3).intoArray(y, y1 + 3 * L);
        a20.add(b0).intoArray(y, y2); a21.add(b1).intoArray(y, y2 + L); a22.add(b2).intoArray(y, y2 + 2 * L); a23.add(b3).intoArray(y, y2 + 3 * L);
        a30.add(b0).intoArray(y, y3); a31.add(b1).intoArray(y, y3 + L); a32.add(b2).intoArray(y, y3 + 2 * L); a33.add(b3).intoArray(y, y3 + 3 * L);
    }

    /** One row, one panel of a single vector of which the first {@code valid} columns are real. */
    private static void narrow1(int k, int valid, float[] x, int xOff, float[] wp, int base, float[] b, int bOff,
                              float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S);
        for (int p = 0, w = base; p < k; p++, w += L) {
            a0 = FloatVector.fromArray(S, wp, w).fma(FloatVector.broadcast(S, x[xOff + p]), a0);
        }
        // the sums under a mask (the padding lanes of the last panel never reach y), then + b
        a0.intoArray(y, yOff, S.indexInRange(0, valid));
        addBias(valid, b, bOff, y, yOff);
    }

    /** Four rows, one single-vector panel. */
    private static void narrow4(int k, int n, int valid, float[] x, int xOff, float[] wp, int base, float[] b, int bOff,
                              float[] y, int yOff) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0, w = base; p < k; p++, w += L) {
            FloatVector wv = FloatVector.fromArray(S, wp, w);
            a0 = wv.fma(FloatVector.broadcast(S, x[xOff + p]), a0);
            a1 = wv.fma(FloatVector.broadcast(S, x[xOff + k + p]), a1);
            a2 = wv.fma(FloatVector.broadcast(S, x[xOff + 2 * k + p]), a2);
            a3 = wv.fma(FloatVector.broadcast(S, x[xOff + 3 * k + p]), a3);
        }
        // the sums under a mask, then + b
        VectorMask<Float> m = S.indexInRange(0, valid);
        a0.intoArray(y, yOff, m);
        a1.intoArray(y, yOff + n, m);
        a2.intoArray(y, yOff + 2 * n, m);
        a3.intoArray(y, yOff + 3 * n, m);
        for (int r = 0; r < 4; r++) addBias(valid, b, bOff, y, yOff + r * n);
    }

    /** y[j] += b[j] for j < valid: the bias of a single-vector panel, in scalar (bitwise as a vector add). */
    private static void addBias(int valid, float[] b, int bOff, float[] y, int yOff) {
        for (int j = 0; j < valid; j++) y[yOff + j] += b[bOff + j];
    }

    /** y[r,j] = act(sum_p x[r,p] W[p,j] + b[j]) with W (k, n) row-major unpacked; scalar twin of {@link #dense}. */
    public static void denseScalar(int m, int n, int k, float[] x, int xOff, float[] w, int wOff, float[] b, int bOff,
                                   Activation act, float alpha, float[] y, int yOff) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s = Math.fma(x[xOff + r * k + p], w[wOff + p * n + j], s);
                y[yOff + r * n + j] = Activations.scalar(act, alpha, s + b[bOff + j]);
            }
        }
    }
}
