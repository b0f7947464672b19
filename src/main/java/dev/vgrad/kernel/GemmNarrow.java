package dev.vgrad.kernel;

import static dev.vgrad.kernel.GemmBlocking.L;
import static dev.vgrad.kernel.GemmBlocking.M1;
import static dev.vgrad.kernel.GemmBlocking.M2;
import static dev.vgrad.kernel.GemmBlocking.M4;
import static dev.vgrad.kernel.GemmBlocking.M8;
import static dev.vgrad.kernel.GemmBlocking.NR;
import static dev.vgrad.kernel.GemmBlocking.X1;
import static dev.vgrad.kernel.GemmBlocking.X2;
import static dev.vgrad.kernel.GemmBlocking.X4;
import static dev.vgrad.kernel.GemmBlocking.X8;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMM kernels for the thin shapes of an output layer, where the packed 8 x 2-vector block of
 * {@link GemmKernel} wastes most of its work: a narrow C ({@link Gemm#narrow}: n = 10 classes) and a short inner
 * dimension (k = 10, the output layer's dx). Each reads A in place.
 *
 * <ul>
 *   <li>{@link #dots}: C = A·Bᵀ with Bᵀ's rows contiguous along k (nn packs them, nt has them): dot
 *       products of 4 rows of A with 5 rows of Bᵀ at a time, every lane busy, the 20 lane sums reduced
 *       together by a transposing tree (4 levels of blend, swap and add with 16 lanes, 3 with 8; the first two
 *       still in registers) instead of one by one. A·B with ten classes and k a multiple of the lanes
 *       ({@link #dots10}) takes 2 rows x 10 columns at a time from Bᵀ packed interleaved instead, whose sums are 20
 *       consecutive floats of C stored by vectors: other blocks, the same partials and tree, so the same bits.</li>
 *   <li>{@link #outer}: C = Aᵀ·B (tn, the output layer's dW) computed as Cᵀ = Bᵀ·A: rows of A are
 *       contiguous along C's rows, so each step of k is an outer product of vectors of A's row p with broadcast
 *       elements of B's row p: 2 vectors x 10 columns of B read in place with 16 lanes, else 4 vectors (2 with
 *       fewer than 16 lanes) x 5 columns of B packed first (k x 5); the block is stored transposed.</li>
 *   <li>{@link #rowVectors}: C = A·B with C exactly one vector wide (16 classes with 16 lanes, 8 with 8): a vector
 *       of C per row, 8 rows at a time, a broadcast of A per fma against B's row; nothing packed, no lane sums. Aᵀ·B
 *       of that width takes {@link #outer}'s two 8-column blocks with 16 lanes, its packed 5-column blocks with 8.</li>
 *   <li>{@link #shortK}: C = A·B with B packed (k x n, row-major) and k short: 6 x 2-vector blocks whose
 *       accumulators start at 0 and are stored straight into C, without the tile of a K-blocked kernel.</li>
 * </ul>
 * Every element of C is summed in an order fixed by k alone (never by the row range a part computes), so
 * splitting C's rows or columns over threads gives the same bits.
 */
final class GemmNarrow {
    private GemmNarrow() {}

    private static final VectorSpecies<Float> S = GemmBlocking.S;

    /** {@link #dots}' 4 x 5 blocks need the lane-sum trees, written for 16 lanes (AVX-512) and 8 (AVX2). */
    static final boolean DOTS = L == 16 || L == 8;
    /** Rows of a {@link #dots} block: threads split C's rows in multiples of it. */
    static final int DOT_ROWS = 4;
    /** Rows of a {@link #rowVectors} block: threads split C's rows in multiples of it. */
    static final int VECTOR_ROWS = 8;
    /** A vector of zeros: the starting values of {@link #rowVectors} without beta (loaded, not a merged constant). */
    private static final float[] ZEROS = new float[L];
    /** Columns of a {@link #dots} block (10 classes: two blocks). */
    static final int DOT_COLS = 5;
    /** {@link #finish} leaves the sum of accumulator 16 + r in lane LAST4[r] of the vector at tile[SUMS4]. */
    private static final int[] LAST4 = L == 16 ? new int[] {0, 8, 4, 12} : new int[] {0, 4, 2, 6};
    /** Where {@link #finish} stores that vector: after the 16 sums of the first 16 accumulators at tile[20L]. */
    static final int SUMS4 = 20 * L + 16;

    /** Classes of {@link #dots10}: one block of 2 rows holds 20 consecutive floats of C. */
    static final int TEN = 10;
    /** {@link #finish10}: the first four lanes, and a shuffle that brings lanes LAST4 there. */
    private static final VectorMask<Float> FIRST4 = VectorMask.fromLong(S, 0xF);
    private static final VectorShuffle<Float> PICK4 = VectorShuffle.fromOp(S, l -> l < 4 ? LAST4[l] : l);
    /** The lane masks and swaps of the lane-sum tree's first two levels: 8 and 4 with 16 lanes, 4 and 2 with 8. */
    private static final VectorMask<Float> MT = L == 16 ? M8 : M4, MH = L == 16 ? M4 : M2;
    private static final VectorShuffle<Float> XT = L == 16 ? X8 : X4, XH = L == 16 ? X4 : X2;
    /** The tree leaves the sum of accumulator bitreverse(l) in lane l; this shuffle puts sum t in lane t. */
    private static final VectorShuffle<Float> NATURAL = L == 16 ? VectorShuffle.fromArray(S, new int[] {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15}, 0)
            : L == 8 ? VectorShuffle.fromArray(S, new int[] {0, 4, 2, 6, 1, 5, 3, 7}, 0) : null;

    /**
     * C[i, j] (+)= sum_p A[i, p] Bt[j, p] for i in [i0, i1), j < n: A (m x k) and Bt (n x k) row-major,
     * both read in place. Blocks of 4 rows x 5 columns (with {@link #DOTS}), the last rows 2 x 4 at a time;
     * columns past the edge re-read the last one and are not stored. Each sum: lane-wise partials over whole
     * vectors of k, the lanes added in one fixed tree, then the k tail in order: the same bits for a row
     * whichever block computes it, so a row's result does not depend on m (a served row equals its batch row).
     */
    static void dots(int n, int k, float[] a, int aOff, float[] bt, int btOff, float[] c, int cOff, boolean beta,
                     int i0, int i1, float[] tile) {
        int kv = S.loopBound(k);
        int i = i0;
        for (; DOTS && i + DOT_ROWS <= i1; i += DOT_ROWS) {
            for (int j = 0; j < n; j += DOT_COLS) {
                // the kernel (with the tree's first two levels) and the rest of the tree are separate methods: one
                // holding all grows past C2's inlining budget, and a Vector API call left out of line boxes its vectors
                dots4x5(kv, k, a, aOff + i * k, bt, btOff, j, n, tile);
                finish(tile);
                // C (+)= the sums (accumulator 4q + r: row r, column q) plus their k tails
                int cols = Math.min(DOT_COLS, n - j), ci = cOff + i * n + j;
                if (cols == DOT_COLS && kv == k && !beta) {
                    // a whole block and no tail: five stores per row
                    for (int r = 0; r < DOT_ROWS; r++) {
                        int cr = ci + r * n, t = 20 * L + r;
                        c[cr] = tile[t];
                        c[cr + 1] = tile[t + 4];
                        c[cr + 2] = tile[t + 8];
                        c[cr + 3] = tile[t + 12];
                        c[cr + 4] = tile[SUMS4 + LAST4[r]];
                    }
                    continue;
                }
                for (int t = 0; t < DOT_ROWS * DOT_COLS; t++) {
                    int r = t & 3, q = t >> 2;
                    if (q >= cols) continue;
                    float sum = t < 16 ? tile[20 * L + t] : tile[SUMS4 + LAST4[r]];
                    if (kv < k) {
                        int ar = aOff + (i + r) * k, br = btOff + (j + q) * k;
                        for (int p = kv; p < k; p++) sum = Math.fma(a[ar + p], bt[br + p], sum);
                    }
                    c[ci + r * n + q] = beta ? c[ci + r * n + q] + sum : sum;
                }
            }
        }
        // the last rows (all of them for batches under 4, or without the trees' 16 or 8 lanes): 2 rows x 4 columns at a time,
        // each sum the same bits as above (the same partials; the rotation fold adds the lanes as the tree does)
        for (; i < i1; i += 2) {
            int rows = Math.min(2, i1 - i);
            int a0 = aOff + i * k, a1 = aOff + (i + rows - 1) * k;
            for (int j = 0; j < n; j += 4) {
                int b1 = btOff + Math.min(j + 1, n - 1) * k, b2 = btOff + Math.min(j + 2, n - 1) * k, b3 = btOff + Math.min(j + 3, n - 1) * k;
                GemmKernel.dot2x4(k, a, a0, a1, bt, btOff + j * k, b1, b2, b3, tile);
                // C (+)= the dot products (rows and columns past the edge were computed twice, stored once)
                for (int r = 0; r < rows; r++) {
                    for (int q = 0; q < Math.min(4, n - j); q++) {
                        int ci = cOff + (i + r) * n + j + q;
                        float v = tile[8 * L + r * 4 + q];
                        c[ci] = beta ? c[ci] + v : v;
                    }
                }
            }
        }
    }

    /** Whether A·B takes {@link #dots10}: ten classes and k a multiple of L. */
    static boolean tenClasses(int n, int k) {
        return DOTS && n == TEN && k % L == 0;
    }

    /**
     * bt[(p / L)*10L + q*L + p % L] = B[p, q] for p < k, q < 10: B (k x 10) transposed and interleaved, the ten rows
     * of Bᵀ one vector of each after another, so {@link #dots2x10} reads them at constant offsets from one index.
     * With 16 lanes, 16 rows of B at a time by a register transpose where its 16-wide reads stay inside b; the rest
     * by scalar copies.
     */
    static void packInterleaved(int k, float[] b, int bOff, float[] bt) {
        int p = 0;
        if (L == 16) {
            for (; p + 16 <= k && bOff + (p + 15) * TEN + 16 <= b.length; p += 16) GemmKernel.transpose16(b, bOff + p * TEN, TEN, bt, p * TEN, L, TEN);
        }
        for (; p < k; p++) {
            int d = p / L * (TEN * L) + p % L;
            for (int q = 0; q < TEN; q++) bt[d + q * L] = b[bOff + p * TEN + q];
        }
    }

    /**
     * C[i, j] (+)= sum_p A[i, p] B[p, j] for i in [i0, i1), j < 10, k a multiple of L: A (m x k) read in place, Bᵀ
     * interleaved by {@link #packInterleaved}. Two rows at a time, whose 20 sums are 20 consecutive floats of C
     * stored by vectors ({@link #finish10}); a last odd row as a pair of itself, stored from the tile. Each sum has
     * {@link #dots}' bits: the same partials added in the same tree.
     */
    static void dots10(int k, float[] a, int aOff, float[] bt, float[] c, int cOff, boolean beta, int i0, int i1, float[] tile) {
        int i = i0;
        for (; i + 2 <= i1; i += 2) {
            int a0 = aOff + i * k;
            dots2x10(k, a, a0, a0 + k, bt, tile);
            finish10(tile, c, cOff + i * TEN, beta);
        }
        if (i < i1) {
            int a0 = aOff + i * k, ci = cOff + i * TEN;
            dots2x10(k, a, a0, a0, bt, tile);
            finish10(tile, tile, 8 * L, false);
            for (int q = 0; q < TEN; q++) c[ci + q] = beta ? c[ci + q] + tile[8 * L + q] : tile[8 * L + q];
        }
    }

    /**
     * The first two levels of the lane-sum tree over a 4 x 5 block's 20 partial dot products, on the accumulators still in
     * registers: tile[t*L ..] for t < 5 holds the pairs of pairs (4t .. 4t + 3) of accumulators, each lane the sum of
     * four lanes of one of them ({@link #finish} does the rest). The partials are those of rows a0 + r*k (r < 4) and
     * rows j .. j + 4 of Bt (past n, the last row again), accumulator 4q + r over p = lane, lane + L, ... < kv. Four
     * rows by five columns: 9 vector loads for 20 fma, where 8 x 2 needed 10 for 16. Two levels here and the rest in
     * {@link #finish} (two levels with 16 lanes, one with 8) store 5 vectors and load them back, where the whole tree out of line stored and loaded 20: the
     * output forward 128x256·256x10 8.5-11.6 % faster (class-loader A/B, 41 rounds each, twice).
     */
    private static void dots4x5(int kv, int k, float[] a, int a0, float[] bt, int btOff, int j, int n, float[] tile) {
        int a1 = a0 + k, a2 = a0 + 2 * k, a3 = a0 + 3 * k;
        int b0 = btOff + j * k, b1 = btOff + Math.min(j + 1, n - 1) * k, b2 = btOff + Math.min(j + 2, n - 1) * k;
        int b3 = btOff + Math.min(j + 3, n - 1) * k, b4 = btOff + Math.min(j + 4, n - 1) * k;
        FloatVector z = FloatVector.zero(S);
        FloatVector v0 = z, v1 = z, v2 = z, v3 = z, v4 = z, v5 = z, v6 = z, v7 = z, v8 = z, v9 = z;
        FloatVector v10 = z, v11 = z, v12 = z, v13 = z, v14 = z, v15 = z, v16 = z, v17 = z, v18 = z, v19 = z;
        for (int p = 0; p < kv; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, a1 + p);
            FloatVector x2 = FloatVector.fromArray(S, a, a2 + p), x3 = FloatVector.fromArray(S, a, a3 + p);
            FloatVector y = FloatVector.fromArray(S, bt, b0 + p);
            v0 = x0.fma(y, v0); v1 = x1.fma(y, v1); v2 = x2.fma(y, v2); v3 = x3.fma(y, v3);
            y = FloatVector.fromArray(S, bt, b1 + p);
            v4 = x0.fma(y, v4); v5 = x1.fma(y, v5); v6 = x2.fma(y, v6); v7 = x3.fma(y, v7);
            y = FloatVector.fromArray(S, bt, b2 + p);
            v8 = x0.fma(y, v8); v9 = x1.fma(y, v9); v10 = x2.fma(y, v10); v11 = x3.fma(y, v11);
            y = FloatVector.fromArray(S, bt, b3 + p);
            v12 = x0.fma(y, v12); v13 = x1.fma(y, v13); v14 = x2.fma(y, v14); v15 = x3.fma(y, v15);
            y = FloatVector.fromArray(S, bt, b4 + p);
            v16 = x0.fma(y, v16); v17 = x1.fma(y, v17); v18 = x2.fma(y, v18); v19 = x3.fma(y, v19);
        }
        // level TOP (8 with 16 lanes, 4 with 8) pairs accumulators (2t, 2t + 1): lane i becomes u[i] + u[i ^ TOP] where
        // (i & TOP) == 0 and v[i] + v[i ^ TOP] elsewhere, halving the vectors and the lanes each covers (written out: a
        // vector passed to a helper C2 does not inline is boxed)
        v0 = v0.blend(v1, MT).add(v1.blend(v0, MT).rearrange(XT));
        v2 = v2.blend(v3, MT).add(v3.blend(v2, MT).rearrange(XT));
        v4 = v4.blend(v5, MT).add(v5.blend(v4, MT).rearrange(XT));
        v6 = v6.blend(v7, MT).add(v7.blend(v6, MT).rearrange(XT));
        v8 = v8.blend(v9, MT).add(v9.blend(v8, MT).rearrange(XT));
        v10 = v10.blend(v11, MT).add(v11.blend(v10, MT).rearrange(XT));
        v12 = v12.blend(v13, MT).add(v13.blend(v12, MT).rearrange(XT));
        v14 = v14.blend(v15, MT).add(v15.blend(v14, MT).rearrange(XT));
        v16 = v16.blend(v17, MT).add(v17.blend(v16, MT).rearrange(XT));
        v18 = v18.blend(v19, MT).add(v19.blend(v18, MT).rearrange(XT));
        // level TOP / 2 pairs those: (0, 2), (4, 6), ... (16, 18)
        v0.blend(v2, MH).add(v2.blend(v0, MH).rearrange(XH)).intoArray(tile, 0);
        v4.blend(v6, MH).add(v6.blend(v4, MH).rearrange(XH)).intoArray(tile, L);
        v8.blend(v10, MH).add(v10.blend(v8, MH).rearrange(XH)).intoArray(tile, 2 * L);
        v12.blend(v14, MH).add(v14.blend(v12, MH).rearrange(XH)).intoArray(tile, 3 * L);
        v16.blend(v18, MH).add(v18.blend(v16, MH).rearrange(XH)).intoArray(tile, 4 * L);
    }

    /**
     * {@link #dots4x5} for 2 rows of A (a0, a1) and all ten rows of Bᵀ interleaved ({@link #packInterleaved}), k a
     * multiple of L: accumulator 10r + q is row r, column q, that is C's float 10r + q from the block's first. 12
     * vector loads for 20 fma, against 9 for the 4 x 5 block, but the sums come out in C's order (with
     * {@link #finish10}: 1.5-7.2 % faster than the 4 x 5 blocks, class-loader A/B medians of 41-61 rounds), and Bᵀ
     * interleaved is read at constant offsets from one index, where ten rows of Bᵀ needed ten offsets held in
     * registers: another 9.7-11.2 % (three A/B runs, 60-61 of 61 rounds each).
     */
    private static void dots2x10(int k, float[] a, int a0, int a1, float[] bt, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector v0 = z, v1 = z, v2 = z, v3 = z, v4 = z, v5 = z, v6 = z, v7 = z, v8 = z, v9 = z;
        FloatVector v10 = z, v11 = z, v12 = z, v13 = z, v14 = z, v15 = z, v16 = z, v17 = z, v18 = z, v19 = z;
        // one index t: A at a0 + tL and a1 + tL, Bᵀ at 10tL + qL, offsets C2 checks once for the loop
        for (int t = 0, kt = k / L; t < kt; t++) {
            int p = t * L, q = t * (TEN * L);
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, a1 + p);
            FloatVector y = FloatVector.fromArray(S, bt, q + 0 * L);
            v0 = x0.fma(y, v0); v10 = x1.fma(y, v10);
            y = FloatVector.fromArray(S, bt, q + 1 * L);
            v1 = x0.fma(y, v1); v11 = x1.fma(y, v11);
            y = FloatVector.fromArray(S, bt, q + 2 * L);
            v2 = x0.fma(y, v2); v12 = x1.fma(y, v12);
            y = FloatVector.fromArray(S, bt, q + 3 * L);
            v3 = x0.fma(y, v3); v13 = x1.fma(y, v13);
            y = FloatVector.fromArray(S, bt, q + 4 * L);
            v4 = x0.fma(y, v4); v14 = x1.fma(y, v14);
            y = FloatVector.fromArray(S, bt, q + 5 * L);
            v5 = x0.fma(y, v5); v15 = x1.fma(y, v15);
            y = FloatVector.fromArray(S, bt, q + 6 * L);
            v6 = x0.fma(y, v6); v16 = x1.fma(y, v16);
            y = FloatVector.fromArray(S, bt, q + 7 * L);
            v7 = x0.fma(y, v7); v17 = x1.fma(y, v17);
            y = FloatVector.fromArray(S, bt, q + 8 * L);
            v8 = x0.fma(y, v8); v18 = x1.fma(y, v18);
            y = FloatVector.fromArray(S, bt, q + 9 * L);
            v9 = x0.fma(y, v9); v19 = x1.fma(y, v19);
        }
        // the tree's first two levels, as in dots4x5
        v0 = v0.blend(v1, MT).add(v1.blend(v0, MT).rearrange(XT));
        v2 = v2.blend(v3, MT).add(v3.blend(v2, MT).rearrange(XT));
        v4 = v4.blend(v5, MT).add(v5.blend(v4, MT).rearrange(XT));
        v6 = v6.blend(v7, MT).add(v7.blend(v6, MT).rearrange(XT));
        v8 = v8.blend(v9, MT).add(v9.blend(v8, MT).rearrange(XT));
        v10 = v10.blend(v11, MT).add(v11.blend(v10, MT).rearrange(XT));
        v12 = v12.blend(v13, MT).add(v13.blend(v12, MT).rearrange(XT));
        v14 = v14.blend(v15, MT).add(v15.blend(v14, MT).rearrange(XT));
        v16 = v16.blend(v17, MT).add(v17.blend(v16, MT).rearrange(XT));
        v18 = v18.blend(v19, MT).add(v19.blend(v18, MT).rearrange(XT));
        v0.blend(v2, MH).add(v2.blend(v0, MH).rearrange(XH)).intoArray(tile, 0);
        v4.blend(v6, MH).add(v6.blend(v4, MH).rearrange(XH)).intoArray(tile, L);
        v8.blend(v10, MH).add(v10.blend(v8, MH).rearrange(XH)).intoArray(tile, 2 * L);
        v12.blend(v14, MH).add(v14.blend(v12, MH).rearrange(XH)).intoArray(tile, 3 * L);
        v16.blend(v18, MH).add(v18.blend(v16, MH).rearrange(XH)).intoArray(tile, 4 * L);
    }

    /**
     * C[ci + t] (+)= the whole sum of {@link #dots2x10}'s accumulator t, t < 20: {@link #finish}'s levels, then the 16
     * (8 + 8 with 8 lanes) first sums stored as they are and the last four brought to the first lanes, stored masked.
     */
    private static void finish10(float[] tile, float[] c, int ci, boolean beta) {
        FloatVector t0 = FloatVector.fromArray(S, tile, 0), t1 = FloatVector.fromArray(S, tile, L);
        FloatVector t2 = FloatVector.fromArray(S, tile, 2 * L), t3 = FloatVector.fromArray(S, tile, 3 * L);
        FloatVector t4 = FloatVector.fromArray(S, tile, 4 * L);
        if (L == 16) {
            t0 = t0.blend(t1, M2).add(t1.blend(t0, M2).rearrange(X2));
            t2 = t2.blend(t3, M2).add(t3.blend(t2, M2).rearrange(X2));
            FloatVector s = t0.blend(t2, M1).add(t2.blend(t0, M1).rearrange(X1)).rearrange(NATURAL);
            (beta ? s.add(FloatVector.fromArray(S, c, ci)) : s).intoArray(c, ci);
            t4 = t4.add(t4.rearrange(X2));
        } else {
            FloatVector s = t0.blend(t1, M1).add(t1.blend(t0, M1).rearrange(X1)).rearrange(NATURAL);
            (beta ? s.add(FloatVector.fromArray(S, c, ci)) : s).intoArray(c, ci);
            s = t2.blend(t3, M1).add(t3.blend(t2, M1).rearrange(X1)).rearrange(NATURAL);
            (beta ? s.add(FloatVector.fromArray(S, c, ci + 8)) : s).intoArray(c, ci + 8);
        }
        FloatVector s = t4.add(t4.rearrange(X1)).rearrange(PICK4);
        (beta ? s.add(FloatVector.fromArray(S, c, ci + 16, FIRST4)) : s).intoArray(c, ci + 16, FIRST4);
    }

    /**
     * The rest of {@link #dots4x5}'s tree: tile[20L + t] = the whole sum of accumulator t for t < 16, and
     * tile[SUMS4 + LAST4[r]] that of accumulator 16 + r. With 16 lanes, level 2 pairs (0, 1) and (2, 3) of the five
     * vectors, level 1 the two left, which leaves sum t in lane bitreverse(t), put back in order by one shuffle; the
     * fifth adds its lanes i and i ^ 2, then i and i ^ 1. With 8 lanes, level 1 pairs (0, 1) and (2, 3) for sums 0-7 and
     * 8-15, and the fifth adds its lanes i and i ^ 1. The same pairs of lanes in the same order for every accumulator: the 2-row edge path's fold gives the same bits.
     */
    private static void finish(float[] tile) {
        FloatVector t0 = FloatVector.fromArray(S, tile, 0), t1 = FloatVector.fromArray(S, tile, L);
        FloatVector t2 = FloatVector.fromArray(S, tile, 2 * L), t3 = FloatVector.fromArray(S, tile, 3 * L);
        FloatVector t4 = FloatVector.fromArray(S, tile, 4 * L);
        if (L == 16) {
            t0 = t0.blend(t1, M2).add(t1.blend(t0, M2).rearrange(X2));
            t2 = t2.blend(t3, M2).add(t3.blend(t2, M2).rearrange(X2));
            t0.blend(t2, M1).add(t2.blend(t0, M1).rearrange(X1)).rearrange(NATURAL).intoArray(tile, 20 * L);
            t4 = t4.add(t4.rearrange(X2));
        } else {
            t0.blend(t1, M1).add(t1.blend(t0, M1).rearrange(X1)).rearrange(NATURAL).intoArray(tile, 20 * L);
            t2.blend(t3, M1).add(t3.blend(t2, M1).rearrange(X1)).rearrange(NATURAL).intoArray(tile, 20 * L + 8);
        }
        t4.add(t4.rearrange(X1)).intoArray(tile, SUMS4);
    }

    /**
     * C[i, j] (+)= sum_p A[p, i] B[p, j] for i in [i0, i1), j < n: A (k x m) and B (k x n) row-major, A read
     * in place. Cᵀ by blocks of columns of C x vectors of rows: with 16 lanes, 16 columns as two blocks of 8 x 2
     * vectors ({@link #outer8x2}), else 10 columns (more than 5 left) x 2 vectors ({@link #outer10x2}), both reading
     * B in place; otherwise 5 columns of B are packed into {@code bq} (k x 5 floats) for blocks of 5 columns x 4
     * vectors of rows, 2 with fewer than 16 lanes, and a tail of 1-vector blocks (the last one masked). Columns
     * past n (or past an 8-column block, in its tails) repeat the last one or are computed and not stored.
     */
    static void outer(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean beta,
                      int i0, int i1, float[] bq, float[] tile) {
        for (int j = 0; j < n; ) {
            int i = i0;
            if (L == 16 && n == 16) {
                // 16 classes: two blocks of 8 columns x 2 vectors of rows, B's rows one vector apart (a constant stride:
                // C2 hoists the range checks of the broadcasts), where 10 + a clamped 10 computed 20 columns for 16
                for (; i + 2 * L <= i1; i += 2 * L) outer8x2(k, m, a, aOff + i, b, bOff, c, cOff, i, j, beta, tile);
                for (int q = j; q < j + 8; q += 5) outerTail(m, n, k, a, aOff, b, bOff, c, cOff, beta, i, i1, q, j + 8, true, bq, tile);
                j += 8;
                continue;
            }
            if (L >= 16 && n - j > 5) {
                // A read once for 10 columns, not twice for 2 x 5, and no packing of B: the output layer's dW
                // (256 x 10, k = 128) 76.5 -> 92.5 GFLOPS through Gemm.run, paired against OpenBLAS (0.85 -> 1.02-1.07)
                int cols = Math.min(10, n - j);
                for (; i + 2 * L <= i1; i += 2 * L) outer10x2(k, m, a, aOff + i, b, bOff, c, cOff, i, n, j, cols, beta, tile);
                // the rows left (fewer than 2L) by the 1-vector blocks below, five columns at a time
                for (int q = j; q < j + cols; q += 5) outerTail(m, n, k, a, aOff, b, bOff, c, cOff, beta, i, i1, q, j + cols, true, bq, tile);
                j += 10;
                continue;
            }
            packFive(n, k, b, bOff, j, bq);
            int cols = Math.min(5, n - j);
            if (L >= 16) {
                for (; i + 4 * L <= i1; i += 4 * L) outer5x4(k, m, a, aOff + i, bq, c, cOff, i, n, j, cols, beta, tile);
            } else {
                for (; i + 2 * L <= i1; i += 2 * L) outer5x2(k, m, a, aOff + i, bq, c, cOff, i, n, j, cols, beta, tile);
            }
            outerTail(m, n, k, a, aOff, b, bOff, c, cOff, beta, i, i1, j, n, false, bq, tile);
            j += 5;
        }
    }

    // columns j .. j + 4 of B (the last one repeated past n) packed as bq[5p + q]: a constant stride in the kernels'
    // loops, whose range checks C2 then hoists
    private static void packFive(int n, int k, float[] b, int bOff, int j, float[] bq) {
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * n;
            for (int q = 0; q < 5; q++) bq[5 * p + q] = b[bp + Math.min(j + q, n - 1)];
        }
    }

    // rows [i, i1) of columns j .. j + 4 below jEnd (<= n), one vector of rows at a time, the last one masked; bq holds
    // those columns already unless {@code pack}
    private static void outerTail(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean beta,
                                  int i, int i1, int j, int jEnd, boolean pack, float[] bq, float[] tile) {
        if (j >= jEnd || i >= i1) return;
        if (pack) packFive(n, k, b, bOff, j, bq);
        int cols = Math.min(5, jEnd - j);
        for (; i < i1; i += L) outer5x1(k, m, a, aOff + i, Math.min(L, i1 - i), bq, c, cOff, i, n, j, cols, beta, tile);
    }

    // C[i + l, j + q] (+)= sum_p A[p, i + l] B[p, j + q] for l < 2L, q < cols <= 10, B read in place (columns past n
    // re-read the last one); with 16 lanes: 20 accumulators of AVX-512's 32 registers
    private static void outer10x2(int k, int m, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int i, int n, int j,
                                  int cols, boolean beta, float[] tile) {
        int tw = 2 * L;
        startTransposed(beta, c, cOff, i, 2 * L, tw, n, j, cols, tile);
        FloatVector c00 = FloatVector.fromArray(S, tile, 0), c01 = FloatVector.fromArray(S, tile, L);
        FloatVector c10 = FloatVector.fromArray(S, tile, tw), c11 = FloatVector.fromArray(S, tile, tw + L);
        FloatVector c20 = FloatVector.fromArray(S, tile, 2 * tw), c21 = FloatVector.fromArray(S, tile, 2 * tw + L);
        FloatVector c30 = FloatVector.fromArray(S, tile, 3 * tw), c31 = FloatVector.fromArray(S, tile, 3 * tw + L);
        FloatVector c40 = FloatVector.fromArray(S, tile, 4 * tw), c41 = FloatVector.fromArray(S, tile, 4 * tw + L);
        FloatVector c50 = FloatVector.fromArray(S, tile, 5 * tw), c51 = FloatVector.fromArray(S, tile, 5 * tw + L);
        FloatVector c60 = FloatVector.fromArray(S, tile, 6 * tw), c61 = FloatVector.fromArray(S, tile, 6 * tw + L);
        FloatVector c70 = FloatVector.fromArray(S, tile, 7 * tw), c71 = FloatVector.fromArray(S, tile, 7 * tw + L);
        FloatVector c80 = FloatVector.fromArray(S, tile, 8 * tw), c81 = FloatVector.fromArray(S, tile, 8 * tw + L);
        FloatVector c90 = FloatVector.fromArray(S, tile, 9 * tw), c91 = FloatVector.fromArray(S, tile, 9 * tw + L);
        int last = n - 1;
        int q0 = bOff + j, q1 = bOff + Math.min(j + 1, last), q2 = bOff + Math.min(j + 2, last), q3 = bOff + Math.min(j + 3, last);
        int q4 = bOff + Math.min(j + 4, last), q5 = bOff + Math.min(j + 5, last), q6 = bOff + Math.min(j + 6, last);
        int q7 = bOff + Math.min(j + 7, last), q8 = bOff + Math.min(j + 8, last), q9 = bOff + Math.min(j + 9, last);
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * m, bp = p * n;
            FloatVector x0 = FloatVector.fromArray(S, a, ap), x1 = FloatVector.fromArray(S, a, ap + L);
            FloatVector y = FloatVector.broadcast(S, b[q0 + bp]);
            c00 = x0.fma(y, c00); c01 = x1.fma(y, c01);
            y = FloatVector.broadcast(S, b[q1 + bp]);
            c10 = x0.fma(y, c10); c11 = x1.fma(y, c11);
            y = FloatVector.broadcast(S, b[q2 + bp]);
            c20 = x0.fma(y, c20); c21 = x1.fma(y, c21);
            y = FloatVector.broadcast(S, b[q3 + bp]);
            c30 = x0.fma(y, c30); c31 = x1.fma(y, c31);
            y = FloatVector.broadcast(S, b[q4 + bp]);
            c40 = x0.fma(y, c40); c41 = x1.fma(y, c41);
            y = FloatVector.broadcast(S, b[q5 + bp]);
            c50 = x0.fma(y, c50); c51 = x1.fma(y, c51);
            y = FloatVector.broadcast(S, b[q6 + bp]);
            c60 = x0.fma(y, c60); c61 = x1.fma(y, c61);
            y = FloatVector.broadcast(S, b[q7 + bp]);
            c70 = x0.fma(y, c70); c71 = x1.fma(y, c71);
            y = FloatVector.broadcast(S, b[q8 + bp]);
            c80 = x0.fma(y, c80); c81 = x1.fma(y, c81);
            y = FloatVector.broadcast(S, b[q9 + bp]);
            c90 = x0.fma(y, c90); c91 = x1.fma(y, c91);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c10.intoArray(tile, tw); c11.intoArray(tile, tw + L);
        c20.intoArray(tile, 2 * tw); c21.intoArray(tile, 2 * tw + L); c30.intoArray(tile, 3 * tw); c31.intoArray(tile, 3 * tw + L);
        c40.intoArray(tile, 4 * tw); c41.intoArray(tile, 4 * tw + L); c50.intoArray(tile, 5 * tw); c51.intoArray(tile, 5 * tw + L);
        c60.intoArray(tile, 6 * tw); c61.intoArray(tile, 6 * tw + L); c70.intoArray(tile, 7 * tw); c71.intoArray(tile, 7 * tw + L);
        c80.intoArray(tile, 8 * tw); c81.intoArray(tile, 8 * tw + L); c90.intoArray(tile, 9 * tw); c91.intoArray(tile, 9 * tw + L);
        storeTransposed(tile, tw, 2 * L, c, cOff, i, n, j, cols);
    }

    // C[i + l, j + q] (+)= sum_p A[p, i + l] B[p, j + q] for l < 2L, q < 8, B (k x 16, n = L = 16) read in place: 16
    // accumulators, 8 broadcasts and 2 loads of A per 16 fma (tn:256:16:128 in JMH 59.4 -> 90.5 GFLOPS through Gemm,
    // OpenBLAS 113.0 in the same run; 80 -> 102 for the kernel alone in a probe)
    private static void outer8x2(int k, int m, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int i, int j,
                                 boolean beta, float[] tile) {
        int tw = 2 * L;
        startTransposed(beta, c, cOff, i, 2 * L, tw, L, j, 8, tile);
        FloatVector c00 = FloatVector.fromArray(S, tile, 0), c01 = FloatVector.fromArray(S, tile, L);
        FloatVector c10 = FloatVector.fromArray(S, tile, tw), c11 = FloatVector.fromArray(S, tile, tw + L);
        FloatVector c20 = FloatVector.fromArray(S, tile, 2 * tw), c21 = FloatVector.fromArray(S, tile, 2 * tw + L);
        FloatVector c30 = FloatVector.fromArray(S, tile, 3 * tw), c31 = FloatVector.fromArray(S, tile, 3 * tw + L);
        FloatVector c40 = FloatVector.fromArray(S, tile, 4 * tw), c41 = FloatVector.fromArray(S, tile, 4 * tw + L);
        FloatVector c50 = FloatVector.fromArray(S, tile, 5 * tw), c51 = FloatVector.fromArray(S, tile, 5 * tw + L);
        FloatVector c60 = FloatVector.fromArray(S, tile, 6 * tw), c61 = FloatVector.fromArray(S, tile, 6 * tw + L);
        FloatVector c70 = FloatVector.fromArray(S, tile, 7 * tw), c71 = FloatVector.fromArray(S, tile, 7 * tw + L);
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * m, bp = bOff + p * L + j;
            FloatVector x0 = FloatVector.fromArray(S, a, ap), x1 = FloatVector.fromArray(S, a, ap + L);
            FloatVector y = FloatVector.broadcast(S, b[bp]);
            c00 = x0.fma(y, c00); c01 = x1.fma(y, c01);
            y = FloatVector.broadcast(S, b[bp + 1]);
            c10 = x0.fma(y, c10); c11 = x1.fma(y, c11);
            y = FloatVector.broadcast(S, b[bp + 2]);
            c20 = x0.fma(y, c20); c21 = x1.fma(y, c21);
            y = FloatVector.broadcast(S, b[bp + 3]);
            c30 = x0.fma(y, c30); c31 = x1.fma(y, c31);
            y = FloatVector.broadcast(S, b[bp + 4]);
            c40 = x0.fma(y, c40); c41 = x1.fma(y, c41);
            y = FloatVector.broadcast(S, b[bp + 5]);
            c50 = x0.fma(y, c50); c51 = x1.fma(y, c51);
            y = FloatVector.broadcast(S, b[bp + 6]);
            c60 = x0.fma(y, c60); c61 = x1.fma(y, c61);
            y = FloatVector.broadcast(S, b[bp + 7]);
            c70 = x0.fma(y, c70); c71 = x1.fma(y, c71);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c10.intoArray(tile, tw); c11.intoArray(tile, tw + L);
        c20.intoArray(tile, 2 * tw); c21.intoArray(tile, 2 * tw + L); c30.intoArray(tile, 3 * tw); c31.intoArray(tile, 3 * tw + L);
        c40.intoArray(tile, 4 * tw); c41.intoArray(tile, 4 * tw + L); c50.intoArray(tile, 5 * tw); c51.intoArray(tile, 5 * tw + L);
        c60.intoArray(tile, 6 * tw); c61.intoArray(tile, 6 * tw + L); c70.intoArray(tile, 7 * tw); c71.intoArray(tile, 7 * tw + L);
        storeTransposed(tile, tw, 2 * L, c, cOff, i, L, j, 8);
    }

    // C[i + l, j + q] (+)= sum_p A[p, i + l] B[p, j + q] for l < 4L, q < cols (B's columns j .. j + 4 packed in bq)
    private static void outer5x4(int k, int m, float[] a, int aOff, float[] bq, float[] c, int cOff, int i, int n, int j, int cols,
                                 boolean beta, float[] tile) {
        // the accumulators start from C (transposed into the tile) or from 0
        startTransposed(beta, c, cOff, i, 4 * L, 4 * L, n, j, cols, tile);
        FloatVector c00 = FloatVector.fromArray(S, tile, 0), c01 = FloatVector.fromArray(S, tile, L);
        FloatVector c02 = FloatVector.fromArray(S, tile, 2 * L), c03 = FloatVector.fromArray(S, tile, 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, tile, 4 * L), c11 = FloatVector.fromArray(S, tile, 5 * L);
        FloatVector c12 = FloatVector.fromArray(S, tile, 6 * L), c13 = FloatVector.fromArray(S, tile, 7 * L);
        FloatVector c20 = FloatVector.fromArray(S, tile, 8 * L), c21 = FloatVector.fromArray(S, tile, 9 * L);
        FloatVector c22 = FloatVector.fromArray(S, tile, 10 * L), c23 = FloatVector.fromArray(S, tile, 11 * L);
        FloatVector c30 = FloatVector.fromArray(S, tile, 12 * L), c31 = FloatVector.fromArray(S, tile, 13 * L);
        FloatVector c32 = FloatVector.fromArray(S, tile, 14 * L), c33 = FloatVector.fromArray(S, tile, 15 * L);
        FloatVector c40 = FloatVector.fromArray(S, tile, 16 * L), c41 = FloatVector.fromArray(S, tile, 17 * L);
        FloatVector c42 = FloatVector.fromArray(S, tile, 18 * L), c43 = FloatVector.fromArray(S, tile, 19 * L);
        // one outer product per step of k: row p of A (4 vectors) times 5 elements of row p of B. Offsets as
        // linear functions of p, not running sums (ap += m): C2 then hoists the range checks out of the loop
        // (9.5 % on the output layer's dW)
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * m, bp = 5 * p;
            FloatVector x0 = FloatVector.fromArray(S, a, ap), x1 = FloatVector.fromArray(S, a, ap + L);
            FloatVector x2 = FloatVector.fromArray(S, a, ap + 2 * L), x3 = FloatVector.fromArray(S, a, ap + 3 * L);
            FloatVector y = FloatVector.broadcast(S, bq[bp]);
            c00 = x0.fma(y, c00); c01 = x1.fma(y, c01); c02 = x2.fma(y, c02); c03 = x3.fma(y, c03);
            y = FloatVector.broadcast(S, bq[bp + 1]);
            c10 = x0.fma(y, c10); c11 = x1.fma(y, c11); c12 = x2.fma(y, c12); c13 = x3.fma(y, c13);
            y = FloatVector.broadcast(S, bq[bp + 2]);
            c20 = x0.fma(y, c20); c21 = x1.fma(y, c21); c22 = x2.fma(y, c22); c23 = x3.fma(y, c23);
            y = FloatVector.broadcast(S, bq[bp + 3]);
            c30 = x0.fma(y, c30); c31 = x1.fma(y, c31); c32 = x2.fma(y, c32); c33 = x3.fma(y, c33);
            y = FloatVector.broadcast(S, bq[bp + 4]);
            c40 = x0.fma(y, c40); c41 = x1.fma(y, c41); c42 = x2.fma(y, c42); c43 = x3.fma(y, c43);
        }
        // spill Cᵀ's block to the tile (row q of the tile = column j + q of C), then store it transposed
        c00.intoArray(tile, 0); c01.intoArray(tile, L); c02.intoArray(tile, 2 * L); c03.intoArray(tile, 3 * L);
        c10.intoArray(tile, 4 * L); c11.intoArray(tile, 5 * L); c12.intoArray(tile, 6 * L); c13.intoArray(tile, 7 * L);
        c20.intoArray(tile, 8 * L); c21.intoArray(tile, 9 * L); c22.intoArray(tile, 10 * L); c23.intoArray(tile, 11 * L);
        c30.intoArray(tile, 12 * L); c31.intoArray(tile, 13 * L); c32.intoArray(tile, 14 * L); c33.intoArray(tile, 15 * L);
        c40.intoArray(tile, 16 * L); c41.intoArray(tile, 17 * L); c42.intoArray(tile, 18 * L); c43.intoArray(tile, 19 * L);
        storeTransposed(tile, 4 * L, 4 * L, c, cOff, i, n, j, cols);
    }

    // outer5x4 with two vectors of rows, for fewer than 16 lanes: AVX2's 16 registers hold its 10 accumulators, not 20
    // (the output layer's dW under -XX:UseAVX=2: 40.8 -> 62.6 GFLOPS, 30 of 30 rounds; a 2 x 5 dot block for the
    // forward, the same idea, lost: 45.5 -> 39.8, 0 of 30)
    private static void outer5x2(int k, int m, float[] a, int aOff, float[] bq, float[] c, int cOff, int i, int n, int j, int cols,
                                 boolean beta, float[] tile) {
        startTransposed(beta, c, cOff, i, 2 * L, 4 * L, n, j, cols, tile);
        FloatVector c00 = FloatVector.fromArray(S, tile, 0), c01 = FloatVector.fromArray(S, tile, L);
        FloatVector c10 = FloatVector.fromArray(S, tile, 4 * L), c11 = FloatVector.fromArray(S, tile, 5 * L);
        FloatVector c20 = FloatVector.fromArray(S, tile, 8 * L), c21 = FloatVector.fromArray(S, tile, 9 * L);
        FloatVector c30 = FloatVector.fromArray(S, tile, 12 * L), c31 = FloatVector.fromArray(S, tile, 13 * L);
        FloatVector c40 = FloatVector.fromArray(S, tile, 16 * L), c41 = FloatVector.fromArray(S, tile, 17 * L);
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * m, bp = 5 * p;
            FloatVector x0 = FloatVector.fromArray(S, a, ap), x1 = FloatVector.fromArray(S, a, ap + L);
            FloatVector y = FloatVector.broadcast(S, bq[bp]);
            c00 = x0.fma(y, c00); c01 = x1.fma(y, c01);
            y = FloatVector.broadcast(S, bq[bp + 1]);
            c10 = x0.fma(y, c10); c11 = x1.fma(y, c11);
            y = FloatVector.broadcast(S, bq[bp + 2]);
            c20 = x0.fma(y, c20); c21 = x1.fma(y, c21);
            y = FloatVector.broadcast(S, bq[bp + 3]);
            c30 = x0.fma(y, c30); c31 = x1.fma(y, c31);
            y = FloatVector.broadcast(S, bq[bp + 4]);
            c40 = x0.fma(y, c40); c41 = x1.fma(y, c41);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, 4 * L); c11.intoArray(tile, 5 * L);
        c20.intoArray(tile, 8 * L); c21.intoArray(tile, 9 * L);
        c30.intoArray(tile, 12 * L); c31.intoArray(tile, 13 * L);
        c40.intoArray(tile, 16 * L); c41.intoArray(tile, 17 * L);
        storeTransposed(tile, 4 * L, 2 * L, c, cOff, i, n, j, cols);
    }

    // C[i + l, j + q] (+)= sum_p A[p, i + l] B[p, jq] for l < rows <= L, q < cols
    private static void outer5x1(int k, int m, float[] a, int aOff, int rows, float[] bq, float[] c, int cOff, int i, int n, int j,
                                 int cols, boolean beta, float[] tile) {
        VectorMask<Float> in = S.indexInRange(0, rows);
        startTransposed(beta, c, cOff, i, rows, 4 * L, n, j, cols, tile);
        FloatVector c0 = FloatVector.fromArray(S, tile, 0), c1 = FloatVector.fromArray(S, tile, 4 * L);
        FloatVector c2 = FloatVector.fromArray(S, tile, 8 * L), c3 = FloatVector.fromArray(S, tile, 12 * L);
        FloatVector c4 = FloatVector.fromArray(S, tile, 16 * L);
        // steps whose masked vector lies inside a (a masked access that crosses an array's end takes a slow path
        // with virtual mask calls, which allocates); the rest, at the end of an exact-size A, by scalar fma below
        int kIn = a.length - aOff - L < 0 ? 0 : (int) Math.min(k, (long) (a.length - aOff - L) / m + 1);
        for (int p = 0; p < kIn; p++) {
            int ap = aOff + p * m, bp = 5 * p;
            FloatVector x = FloatVector.fromArray(S, a, ap, in);
            c0 = x.fma(FloatVector.broadcast(S, bq[bp]), c0);
            c1 = x.fma(FloatVector.broadcast(S, bq[bp + 1]), c1);
            c2 = x.fma(FloatVector.broadcast(S, bq[bp + 2]), c2);
            c3 = x.fma(FloatVector.broadcast(S, bq[bp + 3]), c3);
            c4 = x.fma(FloatVector.broadcast(S, bq[bp + 4]), c4);
        }
        c0.intoArray(tile, 0); c1.intoArray(tile, 4 * L); c2.intoArray(tile, 8 * L); c3.intoArray(tile, 12 * L); c4.intoArray(tile, 16 * L);
        // tail: the same fma per lane, in the same order of p
        for (int p = kIn; p < k; p++) {
            int ap = aOff + p * m, bp = 5 * p;
            for (int q = 0; q < 5; q++) {
                for (int l = 0; l < rows; l++) tile[q * 4 * L + l] = Math.fma(a[ap + l], bq[bp + q], tile[q * 4 * L + l]);
            }
        }
        storeTransposed(tile, 4 * L, rows, c, cOff, i, n, j, cols);
    }

    /** tile[q*tw + l] = beta ? C[i + l, j + q] : 0 for l < rows, q < cols (the rest is never stored). */
    private static void startTransposed(boolean beta, float[] c, int cOff, int i, int rows, int tw, int n, int j, int cols, float[] tile) {
        if (!beta) {
            java.util.Arrays.fill(tile, 0, 20 * L, 0f);
            return;
        }
        for (int q = 0; q < cols; q++) {
            for (int l = 0; l < rows; l++) tile[q * tw + l] = c[cOff + (i + l) * n + j + q];
        }
    }

    /**
     * C[i + l, j + q] = tile[q*tw + l] for l < rows, q < cols: a block of Cᵀ stored into C. Ten, eight and five
     * columns (the blocks of output layers with 10 and 16 classes) are written out, not looped over: with the loop this store cost
     * about a sixth of the output layer's dW (20 % more GFLOPS without it, paired probe, 20 of 20 rounds).
     */
    private static void storeTransposed(float[] tile, int tw, int rows, float[] c, int cOff, int i, int n, int j, int cols) {
        if (cols == 5 || cols == 8 || cols == 10) {
            // five columns, then three more for 8 and two more for 10 (branches on loop invariants, no loop per row)
            boolean eight = cols >= 8, ten = cols == 10;
            for (int l = 0; l < rows; l++) {
                int ci = cOff + (i + l) * n + j;
                c[ci] = tile[l];
                c[ci + 1] = tile[tw + l];
                c[ci + 2] = tile[2 * tw + l];
                c[ci + 3] = tile[3 * tw + l];
                c[ci + 4] = tile[4 * tw + l];
                if (eight) {
                    c[ci + 5] = tile[5 * tw + l];
                    c[ci + 6] = tile[6 * tw + l];
                    c[ci + 7] = tile[7 * tw + l];
                }
                if (ten) {
                    c[ci + 8] = tile[8 * tw + l];
                    c[ci + 9] = tile[9 * tw + l];
                }
            }
            return;
        }
        for (int l = 0; l < rows; l++) {
            int ci = cOff + (i + l) * n + j;
            for (int q = 0; q < cols; q++) c[ci + q] = tile[q * tw + l];
        }
    }

    /**
     * C[i, :] (+)= sum_p A[i, p] B[p, :] for i in [i0, i1) when C is exactly one vector wide (n = L: 16 classes with
     * 16 lanes): one vector of C per row, 8 rows at a time ({@link #rows8x1}), A (m x k), B (k x L) and C row-major
     * and read and written in place: no packing and no lane sums. A last 1 or 2 rows go one row at a time, a
     * latency-bound chain each, not through the 8-row block's repeated rows (a served row of batch 1). Every element
     * is one fma chain over p from 0 or from C, so a row's bits depend neither on m nor on the block computing it.
     * Against the dot products of 4 x 5 blocks (16 columns: 20 computed, each with a lane-sum tree): 57.0 -> 78.2
     * GFLOPS on 128x256·256x16 in JMH. One broadcast of A per fma bounds it: OpenBLAS, whose fma takes its
     * broadcast operand from memory, ran at 109.8 in the same run.
     */
    static void rowVectors(int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean beta, int i0, int i1) {
        int i = i0;
        for (; i1 - i > 2; i += VECTOR_ROWS) {
            rows8x1(k, a, aOff + i * k, Math.min(VECTOR_ROWS, i1 - i), b, bOff, beta, c, cOff + i * L);
        }
        for (; i < i1; i++) {
            int ar = aOff + i * k, ci = cOff + i * L;
            FloatVector acc = FloatVector.fromArray(S, beta ? c : ZEROS, beta ? ci : 0);
            for (int p = 0; p < k; p++) acc = FloatVector.broadcast(S, a[ar + p]).fma(FloatVector.fromArray(S, b, bOff + p * L), acc);
            acc.intoArray(c, ci);
        }
    }

    /**
     * C[r, :] (+)= sum_p A[r, p] B[p, :] for r < mr <= 8, C one vector wide ({@link #rowVectors}), A's rows k apart:
     * per step of k one load of B's row and 8 broadcasts of A, 8 fma; rows past mr repeat the last one and are not
     * stored. A's indices are p plus loop invariants and B's p·L plus one (L a constant), so C2 hoists every range
     * check.
     */
    private static void rows8x1(int k, float[] a, int a0, int mr, float[] b, int bOff, boolean beta, float[] c, int ci) {
        int r1 = Math.min(1, mr - 1), r2 = Math.min(2, mr - 1), r3 = Math.min(3, mr - 1), r4 = Math.min(4, mr - 1);
        int r5 = Math.min(5, mr - 1), r6 = Math.min(6, mr - 1), r7 = Math.min(7, mr - 1);
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sr = beta ? L : 0;
        FloatVector c0 = FloatVector.fromArray(S, st, s0), c1 = FloatVector.fromArray(S, st, s0 + r1 * sr);
        FloatVector c2 = FloatVector.fromArray(S, st, s0 + r2 * sr), c3 = FloatVector.fromArray(S, st, s0 + r3 * sr);
        FloatVector c4 = FloatVector.fromArray(S, st, s0 + r4 * sr), c5 = FloatVector.fromArray(S, st, s0 + r5 * sr);
        FloatVector c6 = FloatVector.fromArray(S, st, s0 + r6 * sr), c7 = FloatVector.fromArray(S, st, s0 + r7 * sr);
        int a1 = a0 + r1 * k, a2 = a0 + r2 * k, a3 = a0 + r3 * k, a4 = a0 + r4 * k, a5 = a0 + r5 * k, a6 = a0 + r6 * k, a7 = a0 + r7 * k;
        for (int p = 0; p < k; p++) {
            FloatVector y = FloatVector.fromArray(S, b, bOff + p * L);
            c0 = FloatVector.broadcast(S, a[a0 + p]).fma(y, c0);
            c1 = FloatVector.broadcast(S, a[a1 + p]).fma(y, c1);
            c2 = FloatVector.broadcast(S, a[a2 + p]).fma(y, c2);
            c3 = FloatVector.broadcast(S, a[a3 + p]).fma(y, c3);
            c4 = FloatVector.broadcast(S, a[a4 + p]).fma(y, c4);
            c5 = FloatVector.broadcast(S, a[a5 + p]).fma(y, c5);
            c6 = FloatVector.broadcast(S, a[a6 + p]).fma(y, c6);
            c7 = FloatVector.broadcast(S, a[a7 + p]).fma(y, c7);
        }
        c0.intoArray(c, ci);
        if (mr > 1) c1.intoArray(c, ci + L);
        if (mr > 2) c2.intoArray(c, ci + 2 * L);
        if (mr > 3) c3.intoArray(c, ci + 3 * L);
        if (mr > 4) c4.intoArray(c, ci + 4 * L);
        if (mr > 5) c5.intoArray(c, ci + 5 * L);
        if (mr > 6) c6.intoArray(c, ci + 6 * L);
        if (mr > 7) c7.intoArray(c, ci + 7 * L);
    }

    /**
     * C[i, j] = sum_p A[i, p] Bp[p, j] for i in [i0, i1), j in [j0, j1): A (m x k) row-major in place, Bp
     * (k x n) row-major (packed, rows {@code ldb} floats apart, column j at Bp offset j - j0). Full 6 x
     * 2-vector blocks start at 0 and store straight into C; edge blocks go through
     * {@link GemmKernel#kernel6x2}'s tile. Overwrites C (beta = 0).
     */
    static void shortK(int n, int k, float[] a, int aOff, float[] bp, int ldb, float[] c, int cOff, int i0, int i1, int j0, int j1,
                       float[] tile) {
        for (int jr = j0; jr < j1; jr += NR) {
            int nr = Math.min(NR, j1 - jr);
            int b0 = jr - j0;
            for (int ir = i0; ir < i1; ir += GemmKernel.ROWS) {
                int mr = Math.min(GemmKernel.ROWS, i1 - ir);
                if (mr < GemmKernel.ROWS || nr < NR) {
                    GemmKernel.kernel6x2(k, a, aOff + ir * k, k, 1, mr, bp, b0, ldb, c, cOff, ir, jr, n, nr, false, tile);
                    continue;
                }
                int a0 = aOff + ir * k;
                FloatVector z = FloatVector.zero(S);
                FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
                for (int p = 0; p < k; p++) {
                    int bq = b0 + p * ldb;
                    FloatVector y0 = FloatVector.fromArray(S, bp, bq), y1 = FloatVector.fromArray(S, bp, bq + L);
                    FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
                    c00 = y0.fma(x, c00); c01 = y1.fma(x, c01);
                    x = FloatVector.broadcast(S, a[a0 + k + p]);
                    c10 = y0.fma(x, c10); c11 = y1.fma(x, c11);
                    x = FloatVector.broadcast(S, a[a0 + 2 * k + p]);
                    c20 = y0.fma(x, c20); c21 = y1.fma(x, c21);
                    x = FloatVector.broadcast(S, a[a0 + 3 * k + p]);
                    c30 = y0.fma(x, c30); c31 = y1.fma(x, c31);
                    x = FloatVector.broadcast(S, a[a0 + 4 * k + p]);
                    c40 = y0.fma(x, c40); c41 = y1.fma(x, c41);
                    x = FloatVector.broadcast(S, a[a0 + 5 * k + p]);
                    c50 = y0.fma(x, c50); c51 = y1.fma(x, c51);
                }
                int ci = cOff + ir * n + jr;
                c00.intoArray(c, ci); c01.intoArray(c, ci + L);
                c10.intoArray(c, ci + n); c11.intoArray(c, ci + n + L);
                c20.intoArray(c, ci + 2 * n); c21.intoArray(c, ci + 2 * n + L);
                c30.intoArray(c, ci + 3 * n); c31.intoArray(c, ci + 3 * n + L);
                c40.intoArray(c, ci + 4 * n); c41.intoArray(c, ci + 4 * n + L);
                c50.intoArray(c, ci + 5 * n); c51.intoArray(c, ci + 5 * n + L);
            }
        }
    }
}
