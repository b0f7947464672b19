package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The GEMM family against its scalar twins. Tolerance: |vector - scalar| <= 1e-5 * (1 + sum_p |a_ip b_pj|),
 * a few float ulps of the largest partial sum (the kernels sum with FMA in K blocks, the twins with
 * separate multiply and add). Sizes: 1, lanes - 1, lanes, lanes + 1, primes, and non-multiples of every
 * block size (MR, NR, KC, MC).
 */
class GemmTest {
    static final int L = GemmBlocking.L;
    static final int[] SIZES = {1, 2, 5, 6, 7, 8, 9, L - 1, L, L + 1, 2 * L + 1, 31, 37, 97};

    interface Form {
        void run(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, GemmEpilogue ep, GemmWorkspace ws, int part, int parts);

        void scalar(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc);

        /** |A|·|B| at (i, j): the scale of the rounding error. */
        float abs(int m, int n, int k, float[] a, float[] b, int i, int j);
    }

    static final Form NN = new Form() {
        public void run(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
            Gemm.nn(m, n, k, a, 0, b, 0, c, 0, acc, ep, ws, part, parts);
        }
        public void scalar(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc) { Gemm.nnScalar(m, n, k, a, 0, b, 0, c, 0, acc); }
        public float abs(int m, int n, int k, float[] a, float[] b, int i, int j) {
            float s = 0; for (int p = 0; p < k; p++) s += Math.abs(a[i * k + p] * b[p * n + j]); return s;
        }
    };
    static final Form NT = new Form() {
        public void run(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
            Gemm.nt(m, n, k, a, 0, b, 0, c, 0, acc, ep, ws, part, parts);
        }
        public void scalar(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc) { Gemm.ntScalar(m, n, k, a, 0, b, 0, c, 0, acc); }
        public float abs(int m, int n, int k, float[] a, float[] b, int i, int j) {
            float s = 0; for (int p = 0; p < k; p++) s += Math.abs(a[i * k + p] * b[j * k + p]); return s;
        }
    };
    static final Form TN = new Form() {
        public void run(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
            Gemm.tn(m, n, k, a, 0, b, 0, c, 0, acc, ep, ws, part, parts);
        }
        public void scalar(int m, int n, int k, float[] a, float[] b, float[] c, boolean acc) { Gemm.tnScalar(m, n, k, a, 0, b, 0, c, 0, acc); }
        public float abs(int m, int n, int k, float[] a, float[] b, int i, int j) {
            float s = 0; for (int p = 0; p < k; p++) s += Math.abs(a[p * m + i] * b[p * n + j]); return s;
        }
    };
    static final Form[] FORMS = {NN, NT, TN};

    static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** Runs all parts one after another, each with its own workspace (as the worker pool does). */
    static void runParts(Form f, int m, int n, int k, float[] a, float[] b, float[] c, boolean acc, GemmEpilogue ep, int parts) {
        for (int t = 0; t < parts; t++) f.run(m, n, k, a, b, c, acc, ep, new GemmWorkspace(m, n, k), t, parts);
    }

    static void check(Form f, int m, int n, int k, boolean acc, int parts, SplittableRandom r) {
        float[] a = random(r, m * k), b = random(r, k * n), c0 = random(r, m * n);
        float[] expect = c0.clone(), got = c0.clone();
        f.scalar(m, n, k, a, b, expect, acc);
        runParts(f, m, n, k, a, b, got, acc, null, parts);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float tol = 1e-5f * (1 + f.abs(m, n, k, a, b, i, j) + (acc ? Math.abs(c0[i * n + j]) : 0));
                float e = expect[i * n + j], g = got[i * n + j];
                if (!(Math.abs(e - g) <= tol)) {
                    throw new AssertionError("m=" + m + " n=" + n + " k=" + k + " acc=" + acc + " parts=" + parts
                            + " at (" + i + "," + j + "): expected " + e + " got " + g);
                }
            }
        }
    }

    @Test
    void handWorkedTwoByTwo() {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]; Aᵀ·B with the same storage = [1 3; 2 4]·B = [26 30; 38 44]
        float[] a = {1, 2, 3, 4}, b = {5, 6, 7, 8}, c = new float[4];
        Gemm.nn(2, 2, 2, a, 0, b, 0, c, 0, false);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c);
        Gemm.nn(2, 2, 2, a, 0, b, 0, c, 0, true);
        assertArrayEquals(new float[] {38, 44, 86, 100}, c);
        Gemm.tn(2, 2, 2, a, 0, b, 0, c, 0, false);
        assertArrayEquals(new float[] {26, 30, 38, 44}, c);
        // A·Bᵀ = [1 2; 3 4]·[5 7; 6 8] = [17 23; 39 53]
        Gemm.nt(2, 2, 2, a, 0, b, 0, c, 0, false);
        assertArrayEquals(new float[] {17, 23, 39, 53}, c);
    }

    @Test
    void everyFormAndSmallSizeMatchesTheScalarTwin() {
        SplittableRandom r = new SplittableRandom(1);
        for (Form f : FORMS) {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : new int[] {1, 7, L + 1, 37}) check(f, m, n, k, (m + n) % 2 == 0, 1, r);
                }
            }
        }
    }

    @Test
    void narrowAndShortKPathsGiveTheClosedForms() {
        // exact small integers, worked by hand: every path of GemmNarrow, with row, column and k tails
        int m = 9, n = 3, k = 18; // 9 rows: one 8-row block and a 1-row edge; k: one vector of 16 and a tail of 2
        float[] ones = new float[m * k];
        java.util.Arrays.fill(ones, 1f);
        float[] b = new float[k * n], bt = new float[n * k];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                b[p * n + j] = j + 1;
                bt[j * k + p] = j + 1;
            }
        }
        // nn and nt, narrow C: C[i, j] = sum_p 1 * (j + 1) = k (j + 1)
        float[] c = new float[m * n], ct = new float[m * n];
        Gemm.nn(m, n, k, ones, 0, b, 0, c, 0, false);
        Gemm.nt(m, n, k, ones, 0, bt, 0, ct, 0, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(k * (j + 1), c[i * n + j], "nn C[" + i + "," + j + "]");
                assertEquals(k * (j + 1), ct[i * n + j], "nt C[" + i + "," + j + "]");
            }
        }
        // ten classes and k a multiple of the lanes (2-row x 10-column blocks stored by vectors, the last 4 floats masked),
        // rows 2-5 (pairs and a 1-row edge), A[i, p] = i + 1, B[p, j] = j + 1, C at offset 2 of a longer array starting
        // at 3 (beta = 1): C[i, j] = 3 + 2L (i + 1)(j + 1), and the floats around C untouched
        for (int rows = 2; rows <= 5; rows++) {
            int k10 = 2 * L, c0 = 2;
            float[] a10 = new float[rows * k10], b10 = new float[k10 * 10], c10 = new float[c0 + rows * 10 + 5];
            for (int i = 0; i < rows; i++) java.util.Arrays.fill(a10, i * k10, i * k10 + k10, i + 1);
            for (int p = 0; p < k10; p++) for (int j = 0; j < 10; j++) b10[p * 10 + j] = j + 1;
            java.util.Arrays.fill(c10, 3f);
            Gemm.nn(rows, 10, k10, a10, 0, b10, 0, c10, c0, true);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < 10; j++) {
                    assertEquals(3 + k10 * (i + 1) * (j + 1), c10[c0 + i * 10 + j], "nn n=10 rows=" + rows + " C[" + i + "," + j + "]");
                }
            }
            for (int t = 0; t < c10.length; t++) {
                if (t < c0 || t >= c0 + rows * 10) assertEquals(3f, c10[t], "nn n=10 rows=" + rows + ": float " + t + " outside C");
            }
        }
        // nn with C one vector wide (16 classes with 16 lanes: a vector of C per row), A[i, p] = i + 1, B[p, j] = j + 1,
        // C starting at 3 (beta = 1): C[i, j] = 3 + k (i + 1)(j + 1), for 1-2 rows (one row at a time), 3-8 (one
        // 8-row block with repeated rows) and 9-19 (8-row blocks and a tail)
        for (int rows = 1; rows <= 19; rows++) {
            float[] av = new float[rows * k], bv = new float[k * L], cv = new float[rows * L];
            for (int i = 0; i < rows; i++) java.util.Arrays.fill(av, i * k, i * k + k, i + 1);
            for (int p = 0; p < k; p++) for (int j = 0; j < L; j++) bv[p * L + j] = j + 1;
            java.util.Arrays.fill(cv, 3f);
            Gemm.nn(rows, L, k, av, 0, bv, 0, cv, 0, true);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < L; j++) {
                    assertEquals(3 + k * (i + 1) * (j + 1), cv[i * L + j], "nn n=L rows=" + rows + " C[" + i + "," + j + "]");
                }
            }
        }
        // tn, narrow C (Aᵀ·B by outer products): A (k x mm) of ones, B[p, j] = p + j: C[i, j] = sum_p (p + j) =
        // k(k-1)/2 + k j, plus the C it started from. mm = 4 vectors + 3 rows: one 4-vector (or two 2-vector) block, a
        // full and a masked tail; n = 3 (5-column blocks), 6, 9, 10 (one 10-column block with 16 lanes, 6 and 9 with
        // clamped columns), 13 (10 + a 5-column block of 3), 16 (two 8-column blocks with 16 lanes: their row tails must
        // not add the next block's columns twice into the C they start from), 8 (a 10-column block of 8 with 16 lanes)
        int mm = 4 * L + L + 3;
        for (int nn : new int[] {3, 6, 8, 9, 10, 13, 16}) {
            float[] onesT = new float[k * mm], bp = new float[k * nn], c2 = new float[mm * nn];
            java.util.Arrays.fill(onesT, 1f);
            java.util.Arrays.fill(c2, 2f);
            for (int p = 0; p < k; p++) for (int j = 0; j < nn; j++) bp[p * nn + j] = p + j;
            Gemm.tn(mm, nn, k, onesT, 0, bp, 0, c2, 0, true);
            for (int i = 0; i < mm; i++) {
                for (int j = 0; j < nn; j++) {
                    assertEquals(2 + k * (k - 1) / 2 + k * j, c2[i * nn + j], "tn n=" + nn + " C[" + i + "," + j + "]");
                }
            }
        }
        // nt with a short k (an output layer's dx): A[i, p] = p, B[j, p] = 1 for 13 x 37 with k = 5: C = 0+1+2+3+4
        int m3 = 13, n3 = 2 * L + 5, k3 = 5;
        float[] a3 = new float[m3 * k3], b3 = new float[n3 * k3], c3 = new float[m3 * n3];
        for (int i = 0; i < m3; i++) for (int p = 0; p < k3; p++) a3[i * k3 + p] = p;
        java.util.Arrays.fill(b3, 1f);
        Gemm.nt(m3, n3, k3, a3, 0, b3, 0, c3, 0, false);
        for (int i = 0; i < m3 * n3; i++) assertEquals(10f, c3[i], "short-k nt C element " + i);
    }

    static int form(Form f) { return f == NN ? Gemm.NN : f == NT ? Gemm.NT : Gemm.TN; }

    @Test
    void everyPathButTheDotProductsEqualsItsScalarTwinBitwise() {
        // the scalar twins are fma chains over p in order from C or 0, which is what the blocked, small-M (6-, 5-, 4-,
        // 3- and 1-row blocks), short-k, outer-product and row-vector paths compute for each element whatever their
        // blocking, K blocks and thread split included; only the narrow dot products add lanes in a tree
        SplittableRandom r = new SplittableRandom(14);
        int kc = GemmBlocking.KC;
        int[][] shapes = {{1, 2 * GemmBlocking.NR + 3, 37}, {2, 300, 17}, {3, 70, 5}, {4, 4 * GemmBlocking.NR + 5, 29}, {5, 140, 33},
                {6, 130, 20}, {11, 4 * GemmBlocking.NR, 40}, {7, 97, 64}, {13, 130, 1}, {16, 33, 300}, {16, 140, 50},
                {37, 70, 300}, {70, 2 * GemmBlocking.NR + 1, kc + 5}, {19, L, 33}, {40, 16, 9}, {33, 10, 12}, {21, 200, 10}};
        for (Form f : FORMS) {
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2];
                if (Gemm.path(form(f), m, n, k, false) == Gemm.Path.DOTS) continue;
                for (boolean acc : new boolean[] {false, true}) {
                    float[] a = random(r, m * k), b = random(r, k * n), c0 = random(r, m * n);
                    float[] want = c0.clone();
                    f.scalar(m, n, k, a, b, want, acc);
                    for (int parts = 1; parts <= 3; parts++) {
                        float[] got = c0.clone();
                        runParts(f, m, n, k, a, b, got, acc, null, parts);
                        assertArrayEquals(want, got, f + " m=" + m + " n=" + n + " k=" + k + " acc=" + acc + " parts=" + parts + " path "
                                + Gemm.path(form(f), m, n, k, acc));
                    }
                }
            }
        }
    }

    @Test
    void smallBatchPathGivesTheClosedForms() {
        // at most 16 rows (GEMV-like, A and B in place): over whole 4-vector panels 5-, 4-, 3- and 1-row x 4-vector blocks
        // (16 lanes), or 6-row blocks and a last 1-3 rows in those (8 lanes); the rest of the columns in 6-row x 2-vector
        // blocks. Every row count from 1 to 16 meets a different mix. A[i, p] = i + 1, B[p, j] = j + 1, C
        // starting at 1 (beta = 1): C[i, j] = 1 + k (i + 1)(j + 1); nn and tn (A stored transposed)
        int k = 5, n = 2 * (2 * GemmBlocking.NR) + 5; // two whole 4-vector panels and a ragged 5-column tail
        float[] b = new float[k * n];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) b[p * n + j] = j + 1;
        for (int m = 1; m <= 16; m++) {
            float[] a = new float[m * k], at = new float[k * m];
            for (int i = 0; i < m; i++) {
                for (int p = 0; p < k; p++) {
                    a[i * k + p] = i + 1;
                    at[p * m + i] = i + 1;
                }
            }
            float[] c = new float[m * n], ct = new float[m * n];
            java.util.Arrays.fill(c, 1f);
            java.util.Arrays.fill(ct, 1f);
            Gemm.nn(m, n, k, a, 0, b, 0, c, 0, true);
            Gemm.tn(m, n, k, at, 0, b, 0, ct, 0, true);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    assertEquals(1 + k * (i + 1) * (j + 1), c[i * n + j], "nn m=" + m + " C[" + i + "," + j + "]");
                    assertEquals(1 + k * (i + 1) * (j + 1), ct[i * n + j], "tn m=" + m + " C[" + i + "," + j + "]");
                }
            }
        }
    }

    @Test
    void smallBatchesWithOffsetsAndEpiloguesEqualTheScalarTwinBitwise() {
        // every batch of 1-16 rows (so every mix of 1-, 3-, 4- and 5-row blocks) at widths around whole 4-vector panels,
        // A, B and C at non-zero offsets in arrays exactly as long as needed, nn and tn, beta 0 and 1, split over 1-3
        // parts, bare and with bias + leaky ReLU: the scalar twin (then the epilogue per element) bit for bit. (k > 32:
        // a shorter nn product without beta takes the short-k path.)
        SplittableRandom r = new SplittableRandom(21);
        int panel = 4 * L;
        int[] widths = {panel - 1, panel + 1, 2 * panel + 1, 2 * panel + panel / 2 + 1};
        for (Form f : new Form[] {NN, TN}) {
            int form = form(f);
            for (int m = 1; m <= 16; m++) {
                for (int n : widths) {
                    for (int k : new int[] {33, 129}) {
                        assertEquals(Gemm.Path.SMALL_M, Gemm.path(form, m, n, k, false), f + " m=" + m + " n=" + n + " k=" + k);
                        int aOff = 3, bOff = 5, cOff = 7;
                        float[] a = random(r, aOff + m * k), b = random(r, bOff + k * n), c0 = random(r, cOff + m * n);
                        float[] bias = random(r, n);
                        for (GemmEpilogue ep : new GemmEpilogue[] {null, new GemmEpilogue(bias, 0, Activation.LEAKY_RELU, 0.25f, null, 0)}) {
                            for (boolean acc : new boolean[] {false, true}) {
                                float[] want = c0.clone();
                                float[] aa = java.util.Arrays.copyOfRange(a, aOff, a.length), bb = java.util.Arrays.copyOfRange(b, bOff, b.length);
                                float[] cc = java.util.Arrays.copyOfRange(c0, cOff, c0.length);
                                f.scalar(m, n, k, aa, bb, cc, acc);
                                for (int i = 0; i < m * n; i++) want[cOff + i] = ep == null ? cc[i] : ep.applyScalar(cc[i], i % n, i);
                                for (int parts = 1; parts <= 3; parts++) {
                                    float[] got = c0.clone();
                                    for (int t = 0; t < parts; t++) {
                                        Gemm.run(form, m, n, k, a, aOff, b, bOff, got, cOff, acc, ep, new GemmWorkspace(m, n, k), t, parts);
                                    }
                                    assertArrayEquals(want, got, f + " m=" + m + " n=" + n + " k=" + k + " acc=" + acc + " parts=" + parts
                                            + (ep == null ? "" : " with bias + leaky ReLU"));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void shortKRowSplitsAtRowCountsNoBlockDividesEqualOnePart() {
        // a short inner dimension splits C's rows (6-row blocks) when each part gets at least 4 blocks: row counts that
        // are no multiple of 6 or 8, 2-4 parts, nn and nt, bare and with the relu' derivative, the same bits as one part
        SplittableRandom r = new SplittableRandom(22);
        for (Form f : new Form[] {NN, NT}) {
            for (int[] s : new int[][] {{301, 257, 31}, {97, 70, 10}, {53, 300, 3}}) {
                int m = s[0], n = s[1], k = s[2];
                assertEquals(Gemm.Path.SHORT_K, Gemm.path(form(f), m, n, k, false), f + " m=" + m);
                float[] a = random(r, m * k), b = random(r, k * n), v = random(r, m * n), c0 = random(r, m * n);
                for (GemmEpilogue ep : new GemmEpilogue[] {null, GemmEpilogue.derivative(Activation.RELU, 0f, v, 0)}) {
                    float[] one = c0.clone();
                    runParts(f, m, n, k, a, b, one, false, ep, 1);
                    for (int parts = 2; parts <= 4; parts++) {
                        float[] many = c0.clone();
                        runParts(f, m, n, k, a, b, many, false, ep, parts);
                        assertArrayEquals(one, many, f + " m=" + m + " n=" + n + " k=" + k + " parts=" + parts);
                    }
                }
            }
        }
    }

    @Test
    void theSplitDimensionFollowsThePath() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        // fc1's forward: splitting columns duplicates the packing of A (128 x 784) and not of W (784 x 256)
        assertTrue(Gemm.splitsColumns(Gemm.NN, 128, 256, 784, false, 2));
        // its dW (784 rows of C): rows
        assertFalse(Gemm.splitsColumns(Gemm.TN, 784, 256, 128, false, 2));
        // the output layer's dx (k = 10, the short-k path): rows, 22 blocks of 6 for 2 parts
        assertFalse(Gemm.splitsColumns(Gemm.NT, 128, 256, 10, false, 2));
        // a short k with too few rows for 4 blocks a part: the packing rule (columns here)
        assertTrue(Gemm.splitsColumns(Gemm.NN, 9, 1024, 32, false, 2));
        // small M: columns; one part: no split
        assertTrue(Gemm.splitsColumns(Gemm.NN, 16, 256, 784, false, 2));
        assertFalse(Gemm.splitsColumns(Gemm.NN, 128, 256, 784, false, 1));
    }

    @Test
    void chunkCountsFollowTheSharedOperandAndTheBlocks() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        int MR = GemmBlocking.MR, NR = GemmBlocking.NR, per = Gemm.CHUNKS_PER_PART;
        // the blocks come from the caches: here KC 1024 and MC 128 (1 MiB of L2); a 256 KiB L2 gives KC 512, MC 64
        org.junit.jupiter.api.Assumptions.assumeTrue(GemmBlocking.MC >= 64 && GemmBlocking.KC >= 512, GemmBlocking.describe());
        // a column split (64 rows of A, 500 deep: one packed block): one chunk per register block of columns (256 / NR),
        // at most `per` a part
        assertEquals(Math.min(256 / NR, per * 2), Gemm.chunks(Gemm.NN, 64, 256, 500, false, 2));
        // fc1's forward at batch 128 (784 deep), where its A is one block
        if (GemmBlocking.MC >= 128 && GemmBlocking.KC >= 784) assertEquals(Math.min(256 / NR, per * 2), Gemm.chunks(Gemm.NN, 128, 256, 784, false, 2));
        // fc1's dW, a row split: 784 rows in blocks of MR, `per` chunks a part
        assertEquals(Math.min((784 + MR - 1) / MR, per * 2), Gemm.chunks(Gemm.TN, 784, 256, 128, false, 2));
        assertEquals(Math.min((784 + MR - 1) / MR, per * 3), Gemm.chunks(Gemm.TN, 784, 256, 128, false, 3));
        // no chunks: one thread; too small to split; the narrow, short-k and small-M paths; A of a column split
        // wider than one M block, B of a row split wider than one N block, or k deeper than one K block (packed in
        // several blocks, so a thread could not keep it for its next chunk)
        assertEquals(0, Gemm.chunks(Gemm.NN, 128, 256, 784, false, 1));
        assertEquals(0, Gemm.chunks(Gemm.NN, 32, 64, 32, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NN, 128, 10, 256, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NT, 128, 256, 10, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NN, 16, 256, 784, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NN, GemmBlocking.MC + MR, 4 * GemmBlocking.MC, 64, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.TN, 4 * GemmBlocking.NC, GemmBlocking.NC + NR, 64, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NN, 128, 256, GemmBlocking.KC + 8, false, 2));
        // no more chunks than blocks, and more than parts or none: 2 blocks of columns for 2 parts
        assertEquals(0, Gemm.chunks(Gemm.NN, 2 * NR, 2 * NR, 512, false, 2));
        assertEquals(3, Gemm.chunks(Gemm.NN, 3 * NR, 3 * NR, 512, false, 2));
    }

    @Test
    void chunksClaimedInAnyOrderGiveTheBitsOfOnePart() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        SplittableRandom r = new SplittableRandom(11);
        int NR = GemmBlocking.NR, MR = GemmBlocking.MR;
        // {form, m, n, k}: column splits (A packed once a thread) and row splits (B packed once a thread), with edges
        // column splits need A in one block (at most MC rows, KC deep), row splits B (KC deep): shapes that fit the blocks
        // of a 256 KiB L2 too
        org.junit.jupiter.api.Assumptions.assumeTrue(GemmBlocking.MC >= 64 && GemmBlocking.KC >= 512, GemmBlocking.describe());
        int[][] shapes = {{Gemm.NN, 64, 256, 500}, {Gemm.NN, 61, 5 * NR + 3, 129}, {Gemm.NT, 64, 256, 256},
                {Gemm.NT, 37, 7 * NR - 1, 200}, {Gemm.TN, 784, 256, 128}, {Gemm.TN, 13 * MR + 5, 2 * NR + 7, 200}};
        for (int[] s : shapes) {
            int form = s[0], m = s[1], n = s[2], k = s[3];
            float[] a = random(r, m * k), b = random(r, k * n), bias = random(r, n), c0 = random(r, m * n);
            for (boolean acc : new boolean[] {false, true}) {
                GemmEpilogue ep = form == Gemm.TN ? null : new GemmEpilogue(bias, 0, Activation.LEAKY_RELU, 0.25f, null, 0);
                float[] one = c0.clone();
                Gemm.run(form, m, n, k, a, 0, b, 0, one, 0, acc, ep, new GemmWorkspace(m, n, k), 0, 1);
                for (int parts = 2; parts <= 3; parts++) {
                    int chunks = Gemm.chunks(form, m, n, k, acc, parts);
                    String what = "form " + form + " " + m + "x" + n + "x" + k + " acc=" + acc + " parts=" + parts;
                    assertTrue(chunks > parts, what + ": takes chunks");
                    for (int trial = 0; trial < 4; trial++) {
                        // each chunk to a random thread, in a random order; a thread reuses what its first chunk packed
                        int[] order = new int[chunks];
                        for (int i = 0; i < chunks; i++) order[i] = i;
                        for (int i = chunks - 1; i > 0; i--) { int j = r.nextInt(i + 1), t = order[i]; order[i] = order[j]; order[j] = t; }
                        GemmWorkspace[] ws = new GemmWorkspace[parts];
                        float[] many = c0.clone();
                        for (int ch : order) {
                            int t = r.nextInt(parts);
                            boolean packed = ws[t] != null;
                            if (!packed) ws[t] = new GemmWorkspace(m, n, k);
                            Gemm.runChunk(form, m, n, k, a, 0, b, 0, many, 0, acc, ep, ws[t], ch, chunks, parts, packed);
                        }
                        assertArrayEquals(one, many, what + " trial " + trial);
                    }
                }
            }
        }
    }

    @Test
    void smallBatchRowsSplitIntoFourAndFiveRowBlocks() {
        // hand-worked: the blocks the small-M path takes (16 lanes) for each batch of 1 to 16 rows
        String[] want = {"1", "2", "3", "4", "5", "3+3", "4+3", "4+4", "5+4", "5+5", "4+4+3", "4+4+4", "5+4+4", "5+5+4",
                "4+4+4+3", "4+4+4+4"};
        for (int m = 1; m <= 16; m++) {
            StringBuilder got = new StringBuilder();
            for (int left = m, mr; left > 0; left -= mr) {
                mr = Gemm.smallRows(left);
                got.append(got.isEmpty() ? "" : "+").append(mr);
            }
            assertEquals(want[m - 1], got.toString(), "blocks of " + m + " rows");
        }
    }

    @Test
    void oneVectorWideProductsWithOffsetsMatchTheScalarTwinAndKeepRowBits() {
        // C exactly one vector wide (a vector of C per row for A·B, 8-column blocks for Aᵀ·B with 16 lanes): A, B
        // and C at offsets in arrays sized exactly, beta on and off; each A·B row alone has its batch bits,
        // including the last 1-2 rows that run one at a time (m = 18: two 8-row blocks and 2 single rows)
        SplittableRandom r = new SplittableRandom(12);
        int n = L;
        for (int m : new int[] {1, 2, 3, 9, 18, 21, 33}) {
            for (int k : new int[] {1, 7, 37}) {
                for (boolean acc : new boolean[] {false, true}) {
                    int ao = 3, bo = 5, co = 7;
                    float[] a = random(r, ao + m * k), b = random(r, bo + k * n), c0 = random(r, co + m * n);
                    float[] c = c0.clone(), want = c0.clone();
                    Gemm.nn(m, n, k, a, ao, b, bo, c, co, acc);
                    Gemm.nnScalar(m, n, k, a, ao, b, bo, want, co, acc);
                    for (int i = 0; i < co; i++) assertEquals(c0[i], c[i], "nn wrote before C at " + i);
                    for (int i = co; i < c.length; i++) assertEquals(want[i], c[i], 1e-4 * (1 + Math.abs(want[i])), "nn m=" + m + " k=" + k + " at " + i);
                    for (int i = 0; i < m; i++) {
                        float[] one = java.util.Arrays.copyOfRange(c0, co + i * n, co + i * n + n);
                        Gemm.nn(1, n, k, a, ao + i * k, b, bo, one, 0, acc);
                        assertArrayEquals(java.util.Arrays.copyOfRange(c, co + i * n, co + i * n + n), one, "nn row " + i + " of " + m);
                    }
                    float[] at = random(r, ao + k * m), ct = c0.clone(), wantT = c0.clone();
                    Gemm.tn(m, n, k, at, ao, b, bo, ct, co, acc);
                    Gemm.tnScalar(m, n, k, at, ao, b, bo, wantT, co, acc);
                    for (int i = co; i < ct.length; i++) assertEquals(wantT[i], ct[i], 1e-4 * (1 + Math.abs(wantT[i])), "tn m=" + m + " k=" + k + " at " + i);
                }
            }
        }
    }

    @Test
    void aNarrowRowHasTheSameBitsWhateverTheBatch() {
        // a served row (m = 1) must equal the same row of a training batch: 8-row blocks and the 2-row edge
        // path add each dot product in the same order
        SplittableRandom r = new SplittableRandom(6);
        for (int k : new int[] {1, L - 1, L, L + 1, 37, 256}) {
            for (int n : new int[] {1, 3, 10, L, 11, 16}) {
                int m = 21; // two 8-row blocks and a 5-row edge
                float[] a = random(r, m * k), b = random(r, k * n), bt = random(r, n * k);
                float[] all = new float[m * n], allT = new float[m * n];
                Gemm.nn(m, n, k, a, 0, b, 0, all, 0, false);
                Gemm.nt(m, n, k, a, 0, bt, 0, allT, 0, false);
                for (int i = 0; i < m; i++) {
                    float[] one = new float[n], oneT = new float[n];
                    Gemm.nn(1, n, k, a, i * k, b, 0, one, 0, false);
                    Gemm.nt(1, n, k, a, i * k, bt, 0, oneT, 0, false);
                    assertArrayEquals(java.util.Arrays.copyOfRange(all, i * n, i * n + n), one, "nn row " + i + " k=" + k + " n=" + n);
                    assertArrayEquals(java.util.Arrays.copyOfRange(allT, i * n, i * n + n), oneT, "nt row " + i + " k=" + k + " n=" + n);
                }
            }
        }
    }

    @Test
    void nnEqualsNtOnATransposedCopyBitwiseForNarrowC() {
        // the contract a server relies on (Gemm.narrowDotProducts): nt with Bᵀ kept gives nn's bits, whatever path each
        // takes (ten classes: nn packs Bᵀ interleaved and runs 2 x 10 blocks, nt runs 4 x 5 blocks on Bᵀ in place)
        SplittableRandom r = new SplittableRandom(9);
        for (int n : new int[] {3, 10, 11}) {
            if (!Gemm.narrowDotProducts(n)) continue;
            for (int k : new int[] {1, L, 2 * L + 3, 256}) {
                for (int m : new int[] {1, 2, 3, 7, 128}) {
                    // operands at offsets 3 (A), 5 (B and Bᵀ) and 7 (C)
                    float[] a = random(r, 3 + m * k), b = random(r, 5 + k * n), bt = new float[5 + n * k];
                    for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[5 + j * k + p] = b[5 + p * n + j];
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] c0 = random(r, 7 + m * n), cn = c0.clone(), ct = c0.clone();
                        for (int parts = 1; parts <= 2; parts++) {
                            float[] pn = cn.clone(), pt = ct.clone();
                            GemmWorkspace ws = new GemmWorkspace(m, n, k);
                            for (int part = 0; part < parts; part++) {
                                Gemm.run(Gemm.NN, m, n, k, a, 3, b, 5, pn, 7, acc, null, ws, part, parts);
                                Gemm.run(Gemm.NT, m, n, k, a, 3, bt, 5, pt, 7, acc, null, ws, part, parts);
                            }
                            assertArrayEquals(pt, pn, "n=" + n + " k=" + k + " m=" + m + " acc=" + acc + " parts=" + parts);
                        }
                    }
                }
            }
        }
    }

    @Test
    void sizesAcrossEveryBlockBoundaryMatchTheScalarTwin() {
        SplittableRandom r = new SplittableRandom(2);
        int kc = GemmBlocking.KC, mc = GemmBlocking.MC;
        int[][] shapes = {{17, 2 * GemmBlocking.NR + 3, kc + 1}, {mc + 7, 19, 2 * kc + 3}, {13, 50, kc - 1},
                {128, 10, 256}, {128, 256, 10}, {1, 300, 91}, {16, 33, 129}, {3, 10, 784},
                {7, GemmBlocking.NC + GemmBlocking.NR + 1, 3}, // a short k too wide for the short-k path
                {37, L, 70}, {2, L, 300}}; // C one vector wide: 8-row blocks and a 5-row tail, two single rows
        for (Form f : FORMS) {
            for (int[] s : shapes) {
                for (boolean acc : new boolean[] {false, true}) {
                    for (int parts = 1; parts <= 3; parts++) check(f, s[0], s[1], s[2], acc, parts, r);
                }
            }
        }
    }

    @Test
    void resultsAreBitwiseIdenticalForOneTwoAndThreeParts() {
        SplittableRandom r = new SplittableRandom(3);
        int[][] shapes = {{64, 200, 150}, {128, 10, 40}, {7, 301, 65}, {97, 17, 13}, {13, 3 * GemmBlocking.NR + 5, 10},
                {45, L, 33}};
        // a bias + leaky-ReLU epilogue: exact operations only (a transcendental activation may differ in the
        // last ulp between interpreted and C2-compiled vector code, which is not a property of the split)
        for (Form f : FORMS) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = random(r, m * k), b = random(r, k * n), bias = random(r, n), c0 = random(r, m * n);
                for (boolean acc : new boolean[] {false, true}) {
                    GemmEpilogue relu = new GemmEpilogue(bias, 0, Activation.LEAKY_RELU, 0.25f, null, 0);
                    float[] one = c0.clone();
                    runParts(f, m, n, k, a, b, one, acc, relu, 1);
                    for (int parts = 2; parts <= 4; parts++) {
                        float[] many = c0.clone();
                        runParts(f, m, n, k, a, b, many, acc, relu, parts);
                        assertArrayEquals(one, many, "m=" + m + " n=" + n + " k=" + k + " parts=" + parts);
                    }
                }
            }
        }
    }

    @Test
    void fusedBiasAndActivationEqualGemmThenBiasActivation() {
        SplittableRandom r = new SplittableRandom(4);
        for (Activation act : Activation.values()) {
            // the last shape spans several M, N... and K blocks: the epilogue runs once per finished M x N block
            for (int[] s : new int[][] {{5, 10, 33}, {128, 37, 200}, {16, 256, 64}, {13, L + 1, 5},
                    {GemmBlocking.MC + 7, 2 * GemmBlocking.NR + 3, 2 * GemmBlocking.KC + 3}}) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = random(r, m * k), b = random(r, k * n), bias = random(r, n);
                float[] expect = new float[m * n], zExpect = new float[m * n];
                Gemm.nnScalar(m, n, k, a, 0, b, 0, expect, 0, false);
                Bias.biasActivationScalar(m, n, bias, 0, act, 0.1f, expect, 0, zExpect, 0);
                float[] got = new float[m * n], z = new float[m * n];
                Gemm.nn(m, n, k, a, 0, b, 0, got, 0, false, new GemmEpilogue(bias, 0, act, 0.1f, z, 0), new GemmWorkspace(m, n, k), 0, 1);
                for (int i = 0; i < m * n; i++) {
                    assertEquals(zExpect[i], z[i], 1e-4f * (1 + Math.abs(zExpect[i])), act + " pre-activation " + i);
                    assertEquals(expect[i], got[i], 1e-4f * (1 + Math.abs(expect[i])), act + " output " + i);
                }
            }
        }
    }

    @Test
    void derivativeEpilogueEqualsGemmThenActivationBackward() {
        // dx = (dy·Wᵀ) * act'(v) in the GEMM's epilogue has the bits of the product followed by the separate
        // ACTIVATION_BACKWARD kernel, on every path (narrow n, short k, small m, blocked) and split
        SplittableRandom r = new SplittableRandom(7);
        int[][] shapes = {{128, 256, 10}, {13, 10, 40}, {5, 37, 33}, {40, 3 * GemmBlocking.NR + 5, 70}, {17, 19, 1},
                {GemmBlocking.MC + 3, 2 * GemmBlocking.NR + 1, 2 * GemmBlocking.KC + 3}}; // the last: after the last of 3 K blocks
        for (Activation act : Activation.values()) {
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2];
                float[] a = random(r, m * k), b = random(r, n * k), v = random(r, m * n);
                if (act == Activation.SIGMOID) for (int i = 0; i < v.length; i++) v[i] = 0.5f + 0.5f * v[i]; // outputs in (0, 1)
                // a NaN in a row's vector part and one in its tail: each must give the separate step's bits
                v[3] = Float.NaN;
                v[n - 1] = Float.NaN;
                float[] expect = new float[m * n];
                Gemm.nt(m, n, k, a, 0, b, 0, expect, 0, false);
                Activations.backward(act, 0.1f, v, 0, expect, 0, expect, 0, m * n, false);
                for (int parts = 1; parts <= 3; parts++) {
                    float[] got = new float[m * n];
                    runParts(NT, m, n, k, a, b, got, false, GemmEpilogue.derivative(act, 0.1f, v, 0), parts);
                    assertArrayEquals(expect, got, act + " m=" + m + " n=" + n + " k=" + k + " parts=" + parts);
                }
            }
        }
        // worked by hand: dy = [1 2], W = [[3, 1], [-1, 2]] (n x k), dy·Wᵀ = [5, 3]; ReLU at v = [0.5, -1] -> [5, 0]
        float[] got = new float[2];
        Gemm.nt(1, 2, 2, new float[] {1, 2}, 0, new float[] {3, 1, -1, 2}, 0, got, 0, false,
                GemmEpilogue.derivative(Activation.RELU, 0f, new float[] {0.5f, -1f}, 0), new GemmWorkspace(1, 2, 2), 0, 1);
        assertArrayEquals(new float[] {5, 0}, got);
    }

    @Test
    void randomProjectionHoldsOnLargeSizes() {
        // C·t must equal A·(B·t) for a random vector t: O(n^2) checks of an O(n^3) product
        SplittableRandom r = new SplittableRandom(5);
        for (Form f : FORMS) {
            int m = 517, n = 389, k = 611;
            float[] a = random(r, m * k), b = random(r, k * n), c = new float[m * n], t = random(r, n);
            runParts(f, m, n, k, a, b, c, false, null, 2);
            double[] bt = new double[k];
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) bt[p] += (double) (f == NT ? b[j * k + p] : b[p * n + j]) * t[j];
            }
            for (int i = 0; i < m; i++) {
                double ct = 0, abt = 0;
                for (int j = 0; j < n; j++) ct += (double) c[i * n + j] * t[j];
                for (int p = 0; p < k; p++) abt += (double) (f == TN ? a[p * m + i] : a[i * k + p]) * bt[p];
                assertEquals(abt, ct, 1e-3 * Math.sqrt(k * n), "row " + i);
            }
        }
    }

    @Test
    void statusNamesTheSpecies() {
        assertTrue(Simd.status().contains(Simd.FLOATS.toString()), Simd.status());
        assertTrue(Simd.status().startsWith("SIMD: "), Simd.status());
    }
}
