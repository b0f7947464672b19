package dev.vgrad.kernel;

import static dev.vgrad.kernel.GemmBlocking.L;
import static dev.vgrad.kernel.GemmBlocking.M1;
import static dev.vgrad.kernel.GemmBlocking.M2;
import static dev.vgrad.kernel.GemmBlocking.M4;
import static dev.vgrad.kernel.GemmBlocking.M8;
import static dev.vgrad.kernel.GemmBlocking.MR;
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
 * The GEMM micro-kernels and packing routines (BLIS's contract). A micro-kernel computes one
 * register block of C, rows x columns = MR x NR, from a panel of A (element (r, p) at
 * {@code a[aOff + r*aRs + p*aCs]}) and a panel of B (row p at {@code b[bOff + p*bRs]}, NR contiguous
 * floats): C (+)= A·B. Packed panels have aRs = 1, aCs = MR, bRs = NR; the small-M
 * path passes the caller's arrays unpacked. The accumulators start from C when beta is set (beta = 1,
 * or any K block after the first) and from 0 otherwise, so each element of C is a single fma chain over
 * p = 0..k-1 however K is blocked: the same bits as the unblocked small-M path and the serving GEMV.
 * A whole block of packed panels ({@link #kernelWhole}: 8 x 2 vectors with 16 lanes, 4 x 2 with fewer) starts
 * from C or 0 in registers and is stored straight into C. An edge block ({@link #edge}, and the strided
 * {@link #kernel6x2}) is computed on a small tile (L1) and stored with its edges: rows past {@code mr} are
 * zero padding of the packed panel (the strided kernel re-reads the last valid row) and, like columns past
 * {@code nr}, are not stored. The small-M path's 4-vector blocks ({@link #kernel5x4}, {@link #kernel4x4} with 16
 * lanes, {@link #kernel3x4} for 2-3 rows, {@link #kernel1x4} for one) are stored straight into C. The caller applies the epilogue
 * to each finished M x N block of C in whole rows. (Merging and activating inside the kernel from registers
 * made C2 hit its inlining node limit and box the vectors, which allocates; a call per register block cost
 * 15-20% of a 256-deep product in loop overheads.)
 */
final class GemmKernel {
    private GemmKernel() {}

    private static final VectorSpecies<Float> S = GemmBlocking.S;
    /**
     * Rows of {@link #kernel6x2}'s strided (unpacked) block: the short-k path steps by it (and splits rows in
     * multiples of it), the small-M path outside whole 4-vector panels and, with 8 lanes, inside them too.
     */
    static final int ROWS = 6;
    /** Panel rows packed per pass over a transposed B's columns (64 x NR floats: 8 KiB at 512-bit, in L1). */
    private static final int PACK_DEPTH = 64;
    /**
     * C[i0 + r, j0 + j] (+)= sum_p A[r, p] B[p, j] for r < mr, j < nr from packed panels: an edge block of the
     * blocked path, computed whole by {@link #kernelWhole} on the tile (rows NR apart) and stored with its edges.
     */
    static void edge(int kc, float[] a, int aOff, float[] b, int bOff, int mr, int nr, float[] c, int cOff, int i0, int j0, int ldc,
                     boolean beta, float[] tile) {
        startTile(beta, c, cOff, i0, j0, ldc, mr, nr, tile, NR, MR);
        kernelWhole(kc, a, aOff, b, bOff, true, tile, 0, NR);
        writeBack(tile, NR, mr, nr, c, cOff, i0, j0, ldc);
    }

    /**
     * C[i0 + r, j0 + j] (+)= sum_p A[r, p] B[p, j] for r < mr <= {@link #ROWS}, j < nr (a 6 x 2-vector block),
     * A and B read in place through strides; C has rows {@code ldc} floats long.
     */
    static void kernel6x2(int kc, float[] a, int aOff, int aRs, int aCs, int mr, float[] b, int bOff, int bRs,
                          float[] c, int cOff, int i0, int j0, int ldc, int nr, boolean beta, float[] tile) {
        int r1 = Math.min(1, mr - 1) * aRs, r2 = Math.min(2, mr - 1) * aRs, r3 = Math.min(3, mr - 1) * aRs;
        int r4 = Math.min(4, mr - 1) * aRs, r5 = Math.min(5, mr - 1) * aRs;
        // the accumulators start from C (beta = 1, or a later K block) or from 0: every element is one fma chain
        // over p = 0..k-1 whatever the blocking, the same bits as an unblocked dot product
        startTile(beta, c, cOff, i0, j0, ldc, mr, nr, tile, NR, ROWS);
        FloatVector c00 = FloatVector.fromArray(S, tile, 0), c01 = FloatVector.fromArray(S, tile, L);
        FloatVector c10 = FloatVector.fromArray(S, tile, NR), c11 = FloatVector.fromArray(S, tile, NR + L);
        FloatVector c20 = FloatVector.fromArray(S, tile, 2 * NR), c21 = FloatVector.fromArray(S, tile, 2 * NR + L);
        FloatVector c30 = FloatVector.fromArray(S, tile, 3 * NR), c31 = FloatVector.fromArray(S, tile, 3 * NR + L);
        FloatVector c40 = FloatVector.fromArray(S, tile, 4 * NR), c41 = FloatVector.fromArray(S, tile, 4 * NR + L);
        FloatVector c50 = FloatVector.fromArray(S, tile, 5 * NR), c51 = FloatVector.fromArray(S, tile, 5 * NR + L);
        // one rank-1 update of the register block per step of k (A or B in place: strides from the caller)
        for (int p = 0; p < kc; p++) {
            int ap = aOff + p * aCs, bp = bOff + p * bRs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ap + r1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ap + r2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ap + r3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ap + r4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ap + r5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
        }
        // spill the block to the L1 tile, then store it into C (edges) in one place
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        writeBack(tile, NR, mr, nr, c, cOff, i0, j0, ldc);
    }

    /**
     * C[r, j] (+)= sum_p A[r, p] B[p, j] for r < mr <= 3, j < 4L (a 3 x 4-vector block), A and B read in place through
     * strides, C stored straight (rows {@code ldc} apart from {@code ci}); rows past mr repeat the last one and are not
     * stored. The small-M path's 2-3 rows (a last 2-3; with 16 lanes also a last 6 as two blocks): 12 fma per 3
     * broadcasts and 4 loads, where the 6-row block computed 6 rows for them (a last single row takes
     * {@link #kernel1x4}; with 16 lanes 4-5 rows {@link #kernel4x4} and {@link #kernel5x4}). Each element one fma chain, as
     * {@link #kernel6x2}. With 8 lanes the block needs 17 of AVX2's 16 registers, and C2 keeps one accumulator on
     * the stack; it still beat the 6-row blocks there (a probe: 47.8 against 40.1 GFLOPS for 3 rows).
     */
    static void kernel3x4(int k, float[] a, int aOff, int aRs, int aCs, int mr, float[] b, int bOff, int bRs, boolean beta,
                          float[] c, int ci, int ldc) {
        int r1 = Math.min(1, mr - 1), r2 = Math.min(2, mr - 1);
        float[] st = beta ? c : ZEROS;
        int s1 = beta ? ci + r1 * ldc : 0, s2 = beta ? ci + r2 * ldc : 0, s0 = beta ? ci : 0, sv = beta ? L : 0;
        FloatVector c00 = FloatVector.fromArray(S, st, s0), c01 = FloatVector.fromArray(S, st, s0 + sv), c02 = FloatVector.fromArray(S, st, s0 + 2 * sv), c03 = FloatVector.fromArray(S, st, s0 + 3 * sv);
        FloatVector c10 = FloatVector.fromArray(S, st, s1), c11 = FloatVector.fromArray(S, st, s1 + sv), c12 = FloatVector.fromArray(S, st, s1 + 2 * sv), c13 = FloatVector.fromArray(S, st, s1 + 3 * sv);
        FloatVector c20 = FloatVector.fromArray(S, st, s2), c21 = FloatVector.fromArray(S, st, s2 + sv), c22 = FloatVector.fromArray(S, st, s2 + 2 * sv), c23 = FloatVector.fromArray(S, st, s2 + 3 * sv);
        r1 *= aRs;
        r2 *= aRs;
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * aCs, bp = bOff + p * bRs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L), b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ap + r1]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ap + r2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + L); c02.intoArray(c, ci + 2 * L); c03.intoArray(c, ci + 3 * L);
        if (mr > 1) {
            int c1 = ci + ldc;
            c10.intoArray(c, c1); c11.intoArray(c, c1 + L); c12.intoArray(c, c1 + 2 * L); c13.intoArray(c, c1 + 3 * L);
        }
        if (mr > 2) {
            int c2 = ci + 2 * ldc;
            c20.intoArray(c, c2); c21.intoArray(c, c2 + L); c22.intoArray(c, c2 + 2 * L); c23.intoArray(c, c2 + 3 * L);
        }
    }

    /**
     * C[r, j] (+)= sum_p A[r, p] B[p, j] for r < 5, j < 4L (a 5 x 4-vector block): {@link #kernel3x4} with five rows,
     * a block of the small-M path with 16 lanes only (20 accumulators, 4 vectors of B and a broadcast: 25 of
     * AVX-512's 32 registers; a 6 x 4 block spills). 20 fma per 5 broadcasts and 4 loads, where the 6-row block
     * takes 12 per 6 broadcasts and 2 loads and goes through the tile. Each element one fma chain, as
     * {@link #kernel6x2}. Written out beside {@link #kernel4x4}: a vector passed to a helper C2 does not inline is boxed.
     */
    static void kernel5x4(int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, boolean beta,
                          float[] c, int ci, int ldc) {
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sr = beta ? ldc : 0, sv = beta ? L : 0;
        int s1 = s0 + sr, s2 = s0 + 2 * sr, s3 = s0 + 3 * sr, s4 = s0 + 4 * sr;
        FloatVector c00 = FloatVector.fromArray(S, st, s0), c01 = FloatVector.fromArray(S, st, s0 + sv), c02 = FloatVector.fromArray(S, st, s0 + 2 * sv), c03 = FloatVector.fromArray(S, st, s0 + 3 * sv);
        FloatVector c10 = FloatVector.fromArray(S, st, s1), c11 = FloatVector.fromArray(S, st, s1 + sv), c12 = FloatVector.fromArray(S, st, s1 + 2 * sv), c13 = FloatVector.fromArray(S, st, s1 + 3 * sv);
        FloatVector c20 = FloatVector.fromArray(S, st, s2), c21 = FloatVector.fromArray(S, st, s2 + sv), c22 = FloatVector.fromArray(S, st, s2 + 2 * sv), c23 = FloatVector.fromArray(S, st, s2 + 3 * sv);
        FloatVector c30 = FloatVector.fromArray(S, st, s3), c31 = FloatVector.fromArray(S, st, s3 + sv), c32 = FloatVector.fromArray(S, st, s3 + 2 * sv), c33 = FloatVector.fromArray(S, st, s3 + 3 * sv);
        FloatVector c40 = FloatVector.fromArray(S, st, s4), c41 = FloatVector.fromArray(S, st, s4 + sv), c42 = FloatVector.fromArray(S, st, s4 + 2 * sv), c43 = FloatVector.fromArray(S, st, s4 + 3 * sv);
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * aCs, bp = bOff + p * bRs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L), b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ap + aRs]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ap + 2 * aRs]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[ap + 3 * aRs]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(S, a[ap + 4 * aRs]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
        }
        int c1 = ci + ldc, c2 = ci + 2 * ldc, c3 = ci + 3 * ldc, c4 = ci + 4 * ldc;
        c00.intoArray(c, ci); c01.intoArray(c, ci + L); c02.intoArray(c, ci + 2 * L); c03.intoArray(c, ci + 3 * L);
        c10.intoArray(c, c1); c11.intoArray(c, c1 + L); c12.intoArray(c, c1 + 2 * L); c13.intoArray(c, c1 + 3 * L);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + L); c22.intoArray(c, c2 + 2 * L); c23.intoArray(c, c2 + 3 * L);
        c30.intoArray(c, c3); c31.intoArray(c, c3 + L); c32.intoArray(c, c3 + 2 * L); c33.intoArray(c, c3 + 3 * L);
        c40.intoArray(c, c4); c41.intoArray(c, c4 + L); c42.intoArray(c, c4 + 2 * L); c43.intoArray(c, c4 + 3 * L);
    }

    /**
     * C[r, j] (+)= sum_p A[r, p] B[p, j] for r < 4, j < 4L: {@link #kernel5x4} with four rows (16 lanes only). Four
     * rows computed as a clamped 5-row block ran 0.74-0.75 of OpenBLAS, as this block 0.86-0.99 (nn:4:256:784).
     */
    static void kernel4x4(int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, boolean beta,
                          float[] c, int ci, int ldc) {
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sr = beta ? ldc : 0, sv = beta ? L : 0;
        int s1 = s0 + sr, s2 = s0 + 2 * sr, s3 = s0 + 3 * sr;
        FloatVector c00 = FloatVector.fromArray(S, st, s0), c01 = FloatVector.fromArray(S, st, s0 + sv), c02 = FloatVector.fromArray(S, st, s0 + 2 * sv), c03 = FloatVector.fromArray(S, st, s0 + 3 * sv);
        FloatVector c10 = FloatVector.fromArray(S, st, s1), c11 = FloatVector.fromArray(S, st, s1 + sv), c12 = FloatVector.fromArray(S, st, s1 + 2 * sv), c13 = FloatVector.fromArray(S, st, s1 + 3 * sv);
        FloatVector c20 = FloatVector.fromArray(S, st, s2), c21 = FloatVector.fromArray(S, st, s2 + sv), c22 = FloatVector.fromArray(S, st, s2 + 2 * sv), c23 = FloatVector.fromArray(S, st, s2 + 3 * sv);
        FloatVector c30 = FloatVector.fromArray(S, st, s3), c31 = FloatVector.fromArray(S, st, s3 + sv), c32 = FloatVector.fromArray(S, st, s3 + 2 * sv), c33 = FloatVector.fromArray(S, st, s3 + 3 * sv);
        for (int p = 0; p < k; p++) {
            int ap = aOff + p * aCs, bp = bOff + p * bRs;
            FloatVector b0 = FloatVector.fromArray(S, b, bp), b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bp + 2 * L), b3 = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ap + aRs]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ap + 2 * aRs]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[ap + 3 * aRs]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
        }
        int c1 = ci + ldc, c2 = ci + 2 * ldc, c3 = ci + 3 * ldc;
        c00.intoArray(c, ci); c01.intoArray(c, ci + L); c02.intoArray(c, ci + 2 * L); c03.intoArray(c, ci + 3 * L);
        c10.intoArray(c, c1); c11.intoArray(c, c1 + L); c12.intoArray(c, c1 + 2 * L); c13.intoArray(c, c1 + 3 * L);
        c20.intoArray(c, c2); c21.intoArray(c, c2 + L); c22.intoArray(c, c2 + 2 * L); c23.intoArray(c, c2 + 3 * L);
        c30.intoArray(c, c3); c31.intoArray(c, c3 + L); c32.intoArray(c, c3 + 2 * L); c33.intoArray(c, c3 + 3 * L);
    }


    /**
     * C[0, j] (+)= sum_p A[0, p] B[p, j] for j < 4L: {@link #kernel3x4} for a single row (a GEMV: 4 loads of B and 4
     * fma per step of k, 4 chains to cover the fma latency), where the 3-row block would compute the row 3 times.
     */
    static void kernel1x4(int k, float[] a, int aOff, int aCs, float[] b, int bOff, int bRs, boolean beta, float[] c, int ci) {
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sv = beta ? L : 0;
        FloatVector c0 = FloatVector.fromArray(S, st, s0), c1 = FloatVector.fromArray(S, st, s0 + sv);
        FloatVector c2 = FloatVector.fromArray(S, st, s0 + 2 * sv), c3 = FloatVector.fromArray(S, st, s0 + 3 * sv);
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * bRs;
            FloatVector x = FloatVector.broadcast(S, a[aOff + p * aCs]);
            c0 = FloatVector.fromArray(S, b, bp).fma(x, c0);
            c1 = FloatVector.fromArray(S, b, bp + L).fma(x, c1);
            c2 = FloatVector.fromArray(S, b, bp + 2 * L).fma(x, c2);
            c3 = FloatVector.fromArray(S, b, bp + 3 * L).fma(x, c3);
        }
        c0.intoArray(c, ci);
        c1.intoArray(c, ci + L);
        c2.intoArray(c, ci + 2 * L);
        c3.intoArray(c, ci + 3 * L);
    }

    /** Two vectors of zeros: the starting values of the whole-block kernels without beta. */
    private static final float[] ZEROS = new float[2 * L];

    /**
     * C[i0 + r, j0 + j] (+)= sum_p A[r, p] B[p, j] for r < 4, j < NR: a whole 4 x 2-vector block from packed
     * panels (C at {@code ci}, rows {@code ldc} apart), the register block with 8 (or 4) lanes. The accumulators
     * start from C (beta) or 0 in registers and are stored straight into C: without {@link #edge}'s tile, whose
     * start and spill cost about 20% of a 128-deep block (a batch of 128 is the inner dimension of every dW
     * product). AVX2 has 16 registers: C2 kept three of a 6 x 2 block's 12 accumulators on the stack, storing
     * and reloading them every step of k (38 against 69-80 GFLOPS under -XX:UseAVX=2). The same bits as
     * kernel6x2.
     */
    static void kernel4x2Whole(int kc, float[] a, int aOff, float[] b, int bOff, boolean beta, float[] c, int ci, int ldc) {
        // the starting values: C's block (beta), or zeros read from ZEROS with a row stride of 0; choosing the
        // array rather than the vectors keeps every accumulator a plain register (a vector merged across a
        // branch may be boxed)
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sr = beta ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, st, s0), c01 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector c10 = FloatVector.fromArray(S, st, s0 + sr), c11 = FloatVector.fromArray(S, st, s0 + sr + L);
        FloatVector c20 = FloatVector.fromArray(S, st, s0 + 2 * sr), c21 = FloatVector.fromArray(S, st, s0 + 2 * sr + L);
        FloatVector c30 = FloatVector.fromArray(S, st, s0 + 3 * sr), c31 = FloatVector.fromArray(S, st, s0 + 3 * sr + L);
        for (int p = 0; p < kc; p++) {
            int ap = aOff + p * 4, bp = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
    }

    /**
     * C[i0 + r, j0 + j] (+)= sum_p A[r, p] B[p, j] for r < 8, j < NR: {@link #kernel4x2Whole} with eight rows,
     * the register block when vectors have 16 lanes (16 accumulators of the 32 registers; with 8 lanes AVX2 has
     * 16 registers and the 4-row block). Eight rows divide every batch and layer width of the MLP shapes, where
     * six left an edge block per panel column (128 = 21 x 6 + 2). The same bits as kernel6x2.
     */
    static void kernel8x2Whole(int kc, float[] a, int aOff, float[] b, int bOff, boolean beta, float[] c, int ci, int ldc) {
        float[] st = beta ? c : ZEROS;
        int s0 = beta ? ci : 0, sr = beta ? ldc : 0;
        FloatVector c00 = FloatVector.fromArray(S, st, s0), c01 = FloatVector.fromArray(S, st, s0 + L);
        FloatVector c10 = FloatVector.fromArray(S, st, s0 + sr), c11 = FloatVector.fromArray(S, st, s0 + sr + L);
        FloatVector c20 = FloatVector.fromArray(S, st, s0 + 2 * sr), c21 = FloatVector.fromArray(S, st, s0 + 2 * sr + L);
        FloatVector c30 = FloatVector.fromArray(S, st, s0 + 3 * sr), c31 = FloatVector.fromArray(S, st, s0 + 3 * sr + L);
        FloatVector c40 = FloatVector.fromArray(S, st, s0 + 4 * sr), c41 = FloatVector.fromArray(S, st, s0 + 4 * sr + L);
        FloatVector c50 = FloatVector.fromArray(S, st, s0 + 5 * sr), c51 = FloatVector.fromArray(S, st, s0 + 5 * sr + L);
        FloatVector c60 = FloatVector.fromArray(S, st, s0 + 6 * sr), c61 = FloatVector.fromArray(S, st, s0 + 6 * sr + L);
        FloatVector c70 = FloatVector.fromArray(S, st, s0 + 7 * sr), c71 = FloatVector.fromArray(S, st, s0 + 7 * sr + L);
        // two steps of k per iteration: the loop's own instructions once per 32 fma, not 16 (the kernel alone on
        // packed panels in cache: 98-104 -> 104-111 GFLOPS)
        int p = 0;
        for (; p + 1 < kc; p += 2) {
            int ap = aOff + p * 8, bp = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ap + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(S, a[ap + 6]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[ap + 7]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
            // step p + 1
            ap += 8;
            bp += NR;
            b0 = FloatVector.fromArray(S, b, bp);
            b1 = FloatVector.fromArray(S, b, bp + L);
            x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ap + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(S, a[ap + 6]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[ap + 7]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
        }
        // an odd last step
        if (p < kc) {
            int ap = aOff + p * 8, bp = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = b0.fma(x, c40);
            c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ap + 5]);
            c50 = b0.fma(x, c50);
            c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(S, a[ap + 6]);
            c60 = b0.fma(x, c60);
            c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(S, a[ap + 7]);
            c70 = b0.fma(x, c70);
            c71 = b1.fma(x, c71);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c60.intoArray(c, ci + 6 * ldc);
        c61.intoArray(c, ci + 6 * ldc + L);
        c70.intoArray(c, ci + 7 * ldc);
        c71.intoArray(c, ci + 7 * ldc + L);
    }

    /** A whole MR x NR block from packed panels: {@link #kernel8x2Whole} or {@link #kernel4x2Whole} (MR is a constant). */
    static void kernelWhole(int kc, float[] a, int aOff, float[] b, int bOff, boolean beta, float[] c, int ci, int ldc) {
        if (MR == 8) kernel8x2Whole(kc, a, aOff, b, bOff, beta, c, ci, ldc);
        else kernel4x2Whole(kc, a, aOff, b, bOff, beta, c, ci, ldc);
    }

    /**
     * out[r*4 + q] = sum_p A[r, p] Bt[q, p] for rows a0, a1 of A and rows b0..b3 of Bᵀ (all contiguous
     * along k): eight dot products for a C narrower than one vector, with every lane used. Lanes are
     * summed in a fixed order (the same bits in every JIT tier), the k tail last. Results land in
     * {@code tile[8*L .. 8*L + 8)}.
     */
    static void dot2x4(int k, float[] a, int a0, int a1, float[] b, int b0, int b1, int b2, int b3, float[] tile) {
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        int p = 0;
        // lane-wise partial dot products along k
        for (int kv = S.loopBound(k); p < kv; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p);
            FloatVector x1 = FloatVector.fromArray(S, a, a1 + p);
            FloatVector y = FloatVector.fromArray(S, b, b0 + p);
            s00 = x0.fma(y, s00);
            s10 = x1.fma(y, s10);
            y = FloatVector.fromArray(S, b, b1 + p);
            s01 = x0.fma(y, s01);
            s11 = x1.fma(y, s11);
            y = FloatVector.fromArray(S, b, b2 + p);
            s02 = x0.fma(y, s02);
            s12 = x1.fma(y, s12);
            y = FloatVector.fromArray(S, b, b3 + p);
            s03 = x0.fma(y, s03);
            s13 = x1.fma(y, s13);
        }
        s00.intoArray(tile, 0);
        s01.intoArray(tile, L);
        s02.intoArray(tile, 2 * L);
        s03.intoArray(tile, 3 * L);
        s10.intoArray(tile, 4 * L);
        s11.intoArray(tile, 5 * L);
        s12.intoArray(tile, 6 * L);
        s13.intoArray(tile, 7 * L);
        // lane sums by a fixed rotation tree (the same bits in every JIT tier), then the k tail
        int kEnd = p;
        for (int t = 0; t < 8; t++) {
            FloatVector v = FloatVector.fromArray(S, tile, t * L);
            if (L > 8) v = v.add(v.rearrange(Simd.R8));
            if (L > 4) v = v.add(v.rearrange(Simd.R4));
            if (L > 2) v = v.add(v.rearrange(Simd.R2));
            if (L > 1) v = v.add(v.rearrange(Simd.R1));
            float sum = v.lane(0);
            int ar = t < 4 ? a0 : a1;
            int br = switch (t & 3) { case 0 -> b0; case 1 -> b1; case 2 -> b2; default -> b3; };
            // tail
            for (int q = kEnd; q < k; q++) sum = Math.fma(a[ar + q], b[br + q], sum);
            tile[8 * L + t] = sum;
        }
    }

    /**
     * tile[r*tw + j] = beta ? C[i0 + r, j0 + j] : 0, the register block's starting values; with beta only
     * the mr x nr part of C is read (the rest of the tile is never written back).
     */
    private static void startTile(boolean beta, float[] c, int cOff, int i0, int j0, int ldc, int mr, int nr, float[] tile,
                                  int tw, int rows) {
        if (!beta) {
            java.util.Arrays.fill(tile, 0, rows * tw, 0f);
            return;
        }
        for (int r = 0; r < mr; r++) System.arraycopy(c, cOff + (i0 + r) * ldc + j0, tile, r * tw, nr);
    }

    /** C[i0 + r, j0 + j] = tile[r*tw + j] for r < mr, j < nr: the register block, spilled to the tile, stored. */
    private static void writeBack(float[] tile, int tw, int mr, int nr, float[] c, int cOff, int i0, int j0, int ldc) {
        for (int r = 0; r < mr; r++) System.arraycopy(tile, r * tw, c, cOff + (i0 + r) * ldc + j0, nr);
    }

    /**
     * bp[p*ldb + (j - j0)] = B(p, j) for p < k, j in [j0, j1), zero up to ldb: whole rows of B's column range for
     * {@link GemmNarrow#shortK}. B is (k x n) row-major, or with {@code transposed} (n x k) row-major (nt's B).
     */
    static void packRows(boolean transposed, int k, float[] b, int bOff, int n, int j0, int j1, int ldb, float[] bp) {
        int w = j1 - j0;
        int j = 0;
        if (transposed && L == 16 && k <= 16) {
            // 16 rows of B (k floats each, read 16 wide: the lanes past k are the next row's and never stored) at
            // a time, transposed in registers; the scalar copy took a fifth of the output layer's dx (1.8 of 9 us)
            for (; j + 16 <= w && bOff + (j0 + j + 15) * k + 16 <= b.length; j += 16) transpose16(b, bOff + (j0 + j) * k, k, bp, j, ldb, k);
        }
        for (int p = 0; p < k; p++) {
            int dst = p * ldb;
            if (transposed) {
                // tail
                for (int q = j; q < w; q++) bp[dst + q] = b[bOff + (j0 + q) * k + p];
            } else {
                System.arraycopy(b, bOff + p * n + j0, bp, dst, w);
            }
            java.util.Arrays.fill(bp, dst + w, dst + ldb, 0f);
        }
    }

    /**
     * Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of A into panels of MR rows:
     * ap[ir*kc + p*MR + r] = A(i0 + ir + r, p0 + p), zero past the last row.
     */
    static void packA(float[] a, int aOff, int aRs, int aCs, int i0, int mc, int p0, int kc, float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            if (aCs == 1) {
                // rows of A are contiguous along k
                int p = 0;
                if (mr == MR && MR == 8 && L == 16) p = packRows8(a, aOff + (i0 + ir) * aRs + p0, aRs, kc, ap, base);
                else if (mr == MR && MR == 4 && L == 8) p = packRows4(a, aOff + (i0 + ir) * aRs + p0, aRs, kc, ap, base);
                // tail
                for (int r = 0; r < mr; r++) {
                    int src = aOff + (i0 + ir + r) * aRs + p0;
                    for (int q = p; q < kc; q++) ap[base + q * MR + r] = a[src + q];
                }
            } else {
                // columns of A are contiguous (A is stored transposed, aRs == 1): mr floats per step of k, a full
                // panel by vectors, an edge panel by System.arraycopy
                int src = aOff + (i0 + ir) * aRs + p0 * aCs;
                if (mr == MR && L >= MR) {
                    packColumns(a, src, aCs, kc, ap, base);
                } else {
                    for (int p = 0; p < kc; p++) System.arraycopy(a, src + p * aCs, ap, base + p * MR, mr);
                }
            }
            // zero rows past the edge
            for (int p = 0; p < kc && mr < MR; p++) {
                for (int r = mr; r < MR; r++) ap[base + p * MR + r] = 0f;
            }
        }
    }

    /** Lane v takes lane 2v and lane v + L/2 takes lane 2v + 1 (16 and 8 lanes): even steps of k, then odd ones. */
    private static final VectorShuffle<Float> DEINTERLEAVE = L == 16 || L == 8
            ? VectorShuffle.fromOp(S, i -> i < L / 2 ? 2 * i : 2 * (i - L / 2) + 1) : null;

    /**
     * ap[base + p*8 + r] = a[src + r*aRs + p] for r < 8 and p below the last multiple of 16 within kc, which it
     * returns: a panel of 8 rows of a row-major A, 8 x 16 at a time in registers (16 lanes only). Each row's
     * lanes are deinterleaved (even k, then odd k), then the two 8 x 8 halves are transposed in place by
     * {@link #transpose16}'s last three stages: row v then holds steps 2v and 2v + 1 of k, 16 contiguous floats
     * of the panel (against the scalar copy, fc1's forward went from 95.1 to 97.7 GFLOP per CPU-second, best of
     * alternating runs).
     */
    private static int packRows8(float[] a, int src, int aRs, int kc, float[] ap, int base) {
        int p = 0;
        for (; p + 16 <= kc; p += 16) {
            int s = src + p;
            FloatVector r0 = FloatVector.fromArray(S, a, s).rearrange(DEINTERLEAVE);
            FloatVector r1 = FloatVector.fromArray(S, a, s + aRs).rearrange(DEINTERLEAVE);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r3 = FloatVector.fromArray(S, a, s + 3 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r5 = FloatVector.fromArray(S, a, s + 5 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r7 = FloatVector.fromArray(S, a, s + 7 * aRs).rearrange(DEINTERLEAVE);
            FloatVector x, y;
            // stage 4
            x = r0; y = r4; r0 = x.blend(y.rearrange(X4), M4); r4 = x.rearrange(X4).blend(y, M4);
            x = r1; y = r5; r1 = x.blend(y.rearrange(X4), M4); r5 = x.rearrange(X4).blend(y, M4);
            x = r2; y = r6; r2 = x.blend(y.rearrange(X4), M4); r6 = x.rearrange(X4).blend(y, M4);
            x = r3; y = r7; r3 = x.blend(y.rearrange(X4), M4); r7 = x.rearrange(X4).blend(y, M4);
            // stage 2
            x = r0; y = r2; r0 = x.blend(y.rearrange(X2), M2); r2 = x.rearrange(X2).blend(y, M2);
            x = r1; y = r3; r1 = x.blend(y.rearrange(X2), M2); r3 = x.rearrange(X2).blend(y, M2);
            x = r4; y = r6; r4 = x.blend(y.rearrange(X2), M2); r6 = x.rearrange(X2).blend(y, M2);
            x = r5; y = r7; r5 = x.blend(y.rearrange(X2), M2); r7 = x.rearrange(X2).blend(y, M2);
            // stage 1
            x = r0; y = r1; r0 = x.blend(y.rearrange(X1), M1); r1 = x.rearrange(X1).blend(y, M1);
            x = r2; y = r3; r2 = x.blend(y.rearrange(X1), M1); r3 = x.rearrange(X1).blend(y, M1);
            x = r4; y = r5; r4 = x.blend(y.rearrange(X1), M1); r5 = x.rearrange(X1).blend(y, M1);
            x = r6; y = r7; r6 = x.blend(y.rearrange(X1), M1); r7 = x.rearrange(X1).blend(y, M1);
            int o = base + p * 8;
            r0.intoArray(ap, o); r1.intoArray(ap, o + 16); r2.intoArray(ap, o + 32); r3.intoArray(ap, o + 48);
            r4.intoArray(ap, o + 64); r5.intoArray(ap, o + 80); r6.intoArray(ap, o + 96); r7.intoArray(ap, o + 112);
        }
        return p;
    }

    /**
     * {@link #packRows8} with 8 lanes: ap[base + p*4 + r] = a[src + r*aRs + p] for r < 4 and p below the last
     * multiple of 8 within kc, which it returns; 4 x 8 at a time, each row deinterleaved, then the two 4 x 4
     * halves transposed by two stages (against the scalar copy under -XX:UseAVX=2, fc1's forward operand,
     * 128 x 784, packed in 13-18 against 29-41 us).
     */
    private static int packRows4(float[] a, int src, int aRs, int kc, float[] ap, int base) {
        int p = 0;
        for (; p + 8 <= kc; p += 8) {
            int s = src + p;
            FloatVector r0 = FloatVector.fromArray(S, a, s).rearrange(DEINTERLEAVE);
            FloatVector r1 = FloatVector.fromArray(S, a, s + aRs).rearrange(DEINTERLEAVE);
            FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * aRs).rearrange(DEINTERLEAVE);
            FloatVector r3 = FloatVector.fromArray(S, a, s + 3 * aRs).rearrange(DEINTERLEAVE);
            FloatVector x, y;
            // stage 2
            x = r0; y = r2; r0 = x.blend(y.rearrange(X2), M2); r2 = x.rearrange(X2).blend(y, M2);
            x = r1; y = r3; r1 = x.blend(y.rearrange(X2), M2); r3 = x.rearrange(X2).blend(y, M2);
            // stage 1
            x = r0; y = r1; r0 = x.blend(y.rearrange(X1), M1); r1 = x.rearrange(X1).blend(y, M1);
            x = r2; y = r3; r2 = x.blend(y.rearrange(X1), M1); r3 = x.rearrange(X1).blend(y, M1);
            int o = base + p * 4;
            r0.intoArray(ap, o); r1.intoArray(ap, o + 8); r2.intoArray(ap, o + 16); r3.intoArray(ap, o + 24);
        }
        return p;
    }

    /** With two steps of k per vector (L = 2 x MR: 16 and 8 lanes), the lanes of the second. */
    private static final VectorMask<Float> SECOND_STEP = L == 2 * MR ? S.indexInRange(-MR, L - MR) : null;

    /**
     * ap[base + p*MR + r] = a[src + p*aCs + r] for p < kc, r < MR: one full panel of a transposed A, by whole
     * vector stores. With two steps per vector, two loads (the second starting MR floats early, so its upper lanes
     * are step p + 1's), one blend and one store per two steps of k: against a masked store per step, packing fc1's
     * dW operand (784 x 128) took 100.7 -> 21.3 us under -XX:UseAVX=2 (AVX2's masked store is slow on Zen 4) and
     * 19.9 us either way with 16 lanes. With one step per vector (4 lanes, MR = 4), one load and one store.
     * The last steps by arraycopy, where a whole vector would read or write past either array.
     */
    private static void packColumns(float[] a, int src, int aCs, int kc, float[] ap, int base) {
        int p = 0;
        if (SECOND_STEP != null) {
            for (; p + 1 < kc && src + p * aCs + L <= a.length && src + (p + 1) * aCs + MR <= a.length
                    && base + p * MR + L <= ap.length; p += 2) {
                FloatVector step0 = FloatVector.fromArray(S, a, src + p * aCs);
                step0.blend(FloatVector.fromArray(S, a, src + (p + 1) * aCs - MR), SECOND_STEP).intoArray(ap, base + p * MR);
            }
        } else {
            for (; p < kc && src + p * aCs + L <= a.length && base + p * MR + L <= ap.length; p++) {
                FloatVector.fromArray(S, a, src + p * aCs).intoArray(ap, base + p * MR);
            }
        }
        // tail
        for (; p < kc; p++) System.arraycopy(a, src + p * aCs, ap, base + p * MR, MR);
    }

    /**
     * Packs rows [p0, p0 + kc) x columns [j0, j0 + nc) of B into panels of {@code nrb} (= NR) columns:
     * bp[bpOff + jr*kc + p*nrb + j] = B(p0 + p, j0 + jr + j), zero past the last column.
     */
    static void packB(int nrb, float[] b, int bOff, int bRs, int bCs, int p0, int kc, int j0, int nc, float[] bp, int bpOff) {
        for (int jr = 0; jr < nc; jr += nrb) {
            int nr = Math.min(nrb, nc - jr);
            int base = bpOff + jr * kc;
            if (bCs == 1 && nr == NR && nrb == NR) {
                // rows of B are contiguous along n: a whole panel by two vectors per row (against System.arraycopy,
                // fc1's W (784 x 256) packed in 22.8 against 32.9 us, and 27.5 against 56.8 under -XX:UseAVX=2)
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (p0 + p) * bRs + j0 + jr;
                    int dst = base + p * NR;
                    FloatVector.fromArray(S, b, src).intoArray(bp, dst);
                    FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
                }
            } else if (bCs == 1) {
                // a last, narrower panel: nr floats per row, zeros up to nrb
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (p0 + p) * bRs + j0 + jr;
                    int dst = base + p * nrb;
                    System.arraycopy(b, src, bp, dst, nr);
                    java.util.Arrays.fill(bp, dst + nr, dst + nrb, 0f);
                }
            } else {
                // B is stored transposed (bRs == 1): each column is contiguous along k. Whole 16 x 16 blocks
                // (8 x 8 with 8 lanes) are transposed in registers; the rest in chunks of PACK_DEPTH rows of the panel, so the lines
                // being written stay in L1 across the columns
                int q = 0;
                if (L == 16 && nr == nrb && nrb % 16 == 0) {
                    for (; q + 16 <= kc; q += 16) {
                        for (int j = 0; j < nr; j += 16) transpose16(b, bOff + (j0 + jr + j) * bCs + p0 + q, bCs, bp, base + q * nrb + j, nrb, 16);
                    }
                } else if (L == 8 && nr == nrb && nrb % 8 == 0) {
                    for (; q + 8 <= kc; q += 8) {
                        for (int j = 0; j < nr; j += 8) transpose8(b, bOff + (j0 + jr + j) * bCs + p0 + q, bCs, bp, base + q * nrb + j, nrb);
                    }
                }
                for (int q0 = q; q0 < kc; q0 += PACK_DEPTH) {
                    int q1 = Math.min(kc, q0 + PACK_DEPTH);
                    for (int j = 0; j < nr; j++) {
                        int src = bOff + (j0 + jr + j) * bCs + p0;
                        for (int p = q0; p < q1; p++) bp[base + p * nrb + j] = b[src + p];
                    }
                }
                for (int p = 0; p < kc && nr < nrb; p++) java.util.Arrays.fill(bp, base + p * nrb + nr, base + (p + 1) * nrb, 0f);
            }
        }
    }

    /**
     * d[o + l*ds + i] = a[s + i*ss + l] for i, l < 8: {@link #transpose16}'s last three stages on an 8 x 8 block (8
     * lanes only; under -XX:UseAVX=2 fc2's dx operand, a transposed 256 x 256 B, packed in 14-22 against 39 us by scalar copies).
     */
    static void transpose8(float[] a, int s, int ss, float[] d, int o, int ds) {
        FloatVector r0 = FloatVector.fromArray(S, a, s), r1 = FloatVector.fromArray(S, a, s + ss);
        FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * ss), r3 = FloatVector.fromArray(S, a, s + 3 * ss);
        FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * ss), r5 = FloatVector.fromArray(S, a, s + 5 * ss);
        FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * ss), r7 = FloatVector.fromArray(S, a, s + 7 * ss);
        FloatVector x, y;
        // stage 4
        x = r0; y = r4; r0 = x.blend(y.rearrange(X4), M4); r4 = x.rearrange(X4).blend(y, M4);
        x = r1; y = r5; r1 = x.blend(y.rearrange(X4), M4); r5 = x.rearrange(X4).blend(y, M4);
        x = r2; y = r6; r2 = x.blend(y.rearrange(X4), M4); r6 = x.rearrange(X4).blend(y, M4);
        x = r3; y = r7; r3 = x.blend(y.rearrange(X4), M4); r7 = x.rearrange(X4).blend(y, M4);
        // stage 2
        x = r0; y = r2; r0 = x.blend(y.rearrange(X2), M2); r2 = x.rearrange(X2).blend(y, M2);
        x = r1; y = r3; r1 = x.blend(y.rearrange(X2), M2); r3 = x.rearrange(X2).blend(y, M2);
        x = r4; y = r6; r4 = x.blend(y.rearrange(X2), M2); r6 = x.rearrange(X2).blend(y, M2);
        x = r5; y = r7; r5 = x.blend(y.rearrange(X2), M2); r7 = x.rearrange(X2).blend(y, M2);
        // stage 1
        x = r0; y = r1; r0 = x.blend(y.rearrange(X1), M1); r1 = x.rearrange(X1).blend(y, M1);
        x = r2; y = r3; r2 = x.blend(y.rearrange(X1), M1); r3 = x.rearrange(X1).blend(y, M1);
        x = r4; y = r5; r4 = x.blend(y.rearrange(X1), M1); r5 = x.rearrange(X1).blend(y, M1);
        x = r6; y = r7; r6 = x.blend(y.rearrange(X1), M1); r7 = x.rearrange(X1).blend(y, M1);
        r0.intoArray(d, o); r1.intoArray(d, o + ds); r2.intoArray(d, o + 2 * ds); r3.intoArray(d, o + 3 * ds);
        r4.intoArray(d, o + 4 * ds); r5.intoArray(d, o + 5 * ds); r6.intoArray(d, o + 6 * ds); r7.intoArray(d, o + 7 * ds);
    }

    /**
     * d[o + l*ds + i] = a[s + i*ss + l] for i < 16, l < rows: a 16 x 16 block transposed in registers (16 lanes only).
     * Four stages; stage e (8, 4, 2, 1) swaps the e x e sub-blocks across the diagonal: rows i and i + e trade
     * lanes l ^ e where bit e of l is set (a swap shuffle and a blend each).
     * Only the first {@code rows} rows of the result are stored.
     */
    static void transpose16(float[] a, int s, int ss, float[] d, int o, int ds, int rows) {
        FloatVector r0 = FloatVector.fromArray(S, a, s), r1 = FloatVector.fromArray(S, a, s + ss);
        FloatVector r2 = FloatVector.fromArray(S, a, s + 2 * ss), r3 = FloatVector.fromArray(S, a, s + 3 * ss);
        FloatVector r4 = FloatVector.fromArray(S, a, s + 4 * ss), r5 = FloatVector.fromArray(S, a, s + 5 * ss);
        FloatVector r6 = FloatVector.fromArray(S, a, s + 6 * ss), r7 = FloatVector.fromArray(S, a, s + 7 * ss);
        FloatVector r8 = FloatVector.fromArray(S, a, s + 8 * ss), r9 = FloatVector.fromArray(S, a, s + 9 * ss);
        FloatVector r10 = FloatVector.fromArray(S, a, s + 10 * ss), r11 = FloatVector.fromArray(S, a, s + 11 * ss);
        FloatVector r12 = FloatVector.fromArray(S, a, s + 12 * ss), r13 = FloatVector.fromArray(S, a, s + 13 * ss);
        FloatVector r14 = FloatVector.fromArray(S, a, s + 14 * ss), r15 = FloatVector.fromArray(S, a, s + 15 * ss);
        FloatVector x, y;
        // stage 8: rows i, i + 8
        x = r0; y = r8; r0 = x.blend(y.rearrange(X8), M8); r8 = x.rearrange(X8).blend(y, M8);
        x = r1; y = r9; r1 = x.blend(y.rearrange(X8), M8); r9 = x.rearrange(X8).blend(y, M8);
        x = r2; y = r10; r2 = x.blend(y.rearrange(X8), M8); r10 = x.rearrange(X8).blend(y, M8);
        x = r3; y = r11; r3 = x.blend(y.rearrange(X8), M8); r11 = x.rearrange(X8).blend(y, M8);
        x = r4; y = r12; r4 = x.blend(y.rearrange(X8), M8); r12 = x.rearrange(X8).blend(y, M8);
        x = r5; y = r13; r5 = x.blend(y.rearrange(X8), M8); r13 = x.rearrange(X8).blend(y, M8);
        x = r6; y = r14; r6 = x.blend(y.rearrange(X8), M8); r14 = x.rearrange(X8).blend(y, M8);
        x = r7; y = r15; r7 = x.blend(y.rearrange(X8), M8); r15 = x.rearrange(X8).blend(y, M8);
        // stage 4
        x = r0; y = r4; r0 = x.blend(y.rearrange(X4), M4); r4 = x.rearrange(X4).blend(y, M4);
        x = r1; y = r5; r1 = x.blend(y.rearrange(X4), M4); r5 = x.rearrange(X4).blend(y, M4);
        x = r2; y = r6; r2 = x.blend(y.rearrange(X4), M4); r6 = x.rearrange(X4).blend(y, M4);
        x = r3; y = r7; r3 = x.blend(y.rearrange(X4), M4); r7 = x.rearrange(X4).blend(y, M4);
        x = r8; y = r12; r8 = x.blend(y.rearrange(X4), M4); r12 = x.rearrange(X4).blend(y, M4);
        x = r9; y = r13; r9 = x.blend(y.rearrange(X4), M4); r13 = x.rearrange(X4).blend(y, M4);
        x = r10; y = r14; r10 = x.blend(y.rearrange(X4), M4); r14 = x.rearrange(X4).blend(y, M4);
        x = r11; y = r15; r11 = x.blend(y.rearrange(X4), M4); r15 = x.rearrange(X4).blend(y, M4);
        // stage 2
        x = r0; y = r2; r0 = x.blend(y.rearrange(X2), M2); r2 = x.rearrange(X2).blend(y, M2);
        x = r1; y = r3; r1 = x.blend(y.rearrange(X2), M2); r3 = x.rearrange(X2).blend(y, M2);
        x = r4; y = r6; r4 = x.blend(y.rearrange(X2), M2); r6 = x.rearrange(X2).blend(y, M2);
        x = r5; y = r7; r5 = x.blend(y.rearrange(X2), M2); r7 = x.rearrange(X2).blend(y, M2);
        x = r8; y = r10; r8 = x.blend(y.rearrange(X2), M2); r10 = x.rearrange(X2).blend(y, M2);
        x = r9; y = r11; r9 = x.blend(y.rearrange(X2), M2); r11 = x.rearrange(X2).blend(y, M2);
        x = r12; y = r14; r12 = x.blend(y.rearrange(X2), M2); r14 = x.rearrange(X2).blend(y, M2);
        x = r13; y = r15; r13 = x.blend(y.rearrange(X2), M2); r15 = x.rearrange(X2).blend(y, M2);
        // stage 1
        x = r0; y = r1; r0 = x.blend(y.rearrange(X1), M1); r1 = x.rearrange(X1).blend(y, M1);
        x = r2; y = r3; r2 = x.blend(y.rearrange(X1), M1); r3 = x.rearrange(X1).blend(y, M1);
        x = r4; y = r5; r4 = x.blend(y.rearrange(X1), M1); r5 = x.rearrange(X1).blend(y, M1);
        x = r6; y = r7; r6 = x.blend(y.rearrange(X1), M1); r7 = x.rearrange(X1).blend(y, M1);
        x = r8; y = r9; r8 = x.blend(y.rearrange(X1), M1); r9 = x.rearrange(X1).blend(y, M1);
        x = r10; y = r11; r10 = x.blend(y.rearrange(X1), M1); r11 = x.rearrange(X1).blend(y, M1);
        x = r12; y = r13; r12 = x.blend(y.rearrange(X1), M1); r13 = x.rearrange(X1).blend(y, M1);
        x = r14; y = r15; r14 = x.blend(y.rearrange(X1), M1); r15 = x.rearrange(X1).blend(y, M1);
        r0.intoArray(d, o);
        if (rows > 1) r1.intoArray(d, o + ds);
        if (rows > 2) r2.intoArray(d, o + 2 * ds);
        if (rows > 3) r3.intoArray(d, o + 3 * ds);
        if (rows > 4) r4.intoArray(d, o + 4 * ds);
        if (rows > 5) r5.intoArray(d, o + 5 * ds);
        if (rows > 6) r6.intoArray(d, o + 6 * ds);
        if (rows > 7) r7.intoArray(d, o + 7 * ds);
        if (rows > 8) r8.intoArray(d, o + 8 * ds);
        if (rows > 9) r9.intoArray(d, o + 9 * ds);
        if (rows > 10) r10.intoArray(d, o + 10 * ds);
        if (rows > 11) r11.intoArray(d, o + 11 * ds);
        if (rows > 12) r12.intoArray(d, o + 12 * ds);
        if (rows > 13) r13.intoArray(d, o + 13 * ds);
        if (rows > 14) r14.intoArray(d, o + 14 * ds);
        if (rows > 15) r15.intoArray(d, o + 15 * ds);
    }
}
