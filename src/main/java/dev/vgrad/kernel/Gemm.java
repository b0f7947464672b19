package dev.vgrad.kernel;

import static dev.vgrad.kernel.GemmBlocking.KC;
import static dev.vgrad.kernel.GemmBlocking.L;
import static dev.vgrad.kernel.GemmBlocking.MC;
import static dev.vgrad.kernel.GemmBlocking.MR;
import static dev.vgrad.kernel.GemmBlocking.NC;
import static dev.vgrad.kernel.GemmBlocking.NR;
import static dev.vgrad.kernel.GemmBlocking.SHORT_K;
import static dev.vgrad.kernel.GemmBlocking.SMALL_M;

/**
 * Matrix products in the three forms backpropagation needs, BLIS-structured: macro loops block C's
 * columns by NC, the inner dimension by KC and C's rows by MC, pack the blocks of A and B into
 * contiguous panels ({@link GemmWorkspace}), and call one micro-kernel per register block
 * ({@link GemmKernel}). Dedicated paths read A in place: a narrow C (an output layer, {@link #narrow}: n <= 16
 * with 16 or 8 lanes) and an inner dimension of at most {@value GemmBlocking#SHORT_K} (its dx) take
 * {@link GemmNarrow}'s kernels; at most {@value GemmBlocking#SMALL_M} rows of A (batch 1-16, GEMV-like)
 * with B in row-major (k, n) skip packing and read A and B in place.
 *
 * <p>All matrices are dense row-major with no padding; {@code accumulate} adds into C (beta = 1)
 * instead of overwriting it (beta = 0); an optional {@link GemmEpilogue} (bias + activation, or an activation
 * derivative) is applied
 * inside the same call, in whole rows: on the blocked path to each MC x NC block of C right after its last
 * K block (while it is still in cache), on the other paths to the part's slice of C at the end.
 *
 * <p>Multi-core: {@code part} of {@code parts} computes one slice of C's rows or columns (whole
 * register blocks); every element is summed in the same order whatever the split, so the result is
 * bitwise identical for any {@code parts}. Each part needs its own workspace. {@link #runChunk} computes one of
 * {@link #chunks} smaller slices instead, for threads that claim them as they come free.
 *
 * <p>The short forms without a workspace use one per calling thread, grown on demand. When the Vector
 * API is not compiled to SIMD ({@link Simd#VECTORIZED}), the scalar twins run instead.
 */
public final class Gemm {
    private Gemm() {}

    /** The three forms, for {@link #run}: A·B, A·Bᵀ, Aᵀ·B. */
    public static final int NN = 0, NT = 1, TN = 2;

    private static final ThreadLocal<GemmWorkspace[]> LOCAL = ThreadLocal.withInitial(() -> new GemmWorkspace[1]);

    /**
     * The widest C that takes {@link GemmNarrow}'s paths (dot and outer products, a vector of C per row when exactly
     * one vector wide) instead of the blocked path: one
     * vector, and 16 columns where the dot products' lane-sum trees exist at fewer lanes (with 8 lanes a 10-class
     * output layer's forward took 45 us in the blocked path's edge blocks, 14 us as dot products).
     */
    static final int NARROW = GemmNarrow.DOTS ? Math.max(L, 16) : L;

    /**
     * Whether a C of n columns takes the narrow paths, whose sums are added in their own fixed order: a server
     * that must give Trainer.forward's bits runs such a layer through these kernels too.
     */
    public static boolean narrow(int n) {
        return n <= NARROW;
    }

    /**
     * Whether A·B with a C of n columns runs as dot products with Bᵀ's rows, packing Bᵀ per call, with the bits A·Bᵀ
     * has with Bᵀ given (ten classes take other blocks on an interleaved Bᵀ: the same partials and lane-sum tree): then
     * {@code nt} on a transposed copy of B gives {@code nn}'s bits without the per-call transpose (a server keeps such a copy of an output layer's weights). True for a narrow C except one exactly one
     * vector wide (row vectors, no transpose); false without SIMD (the scalar twins).
     */
    public static boolean narrowDotProducts(int n) {
        return path(NN, 1, n, 1, false) == Path.DOTS && path(NT, 1, n, 1, false) == Path.DOTS;
    }

    /** C[m,n] (+)= A[m,k] · B[k,n] */
    public static void nn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        gemm(NN, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, null, local(m, n, k), 0, 1, 1, false);
    }

    /** C[m,n] = ep((+)A[m,k] · B[k,n]), the {@code part}-th of {@code parts} slices of C. */
    public static void nn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate,
                          GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
        gemm(NN, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, ws, part, parts, parts, false);
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ */
    public static void nt(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        gemm(NT, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, null, local(m, n, k), 0, 1, 1, false);
    }

    /** C[m,n] = ep((+)A[m,k] · B[n,k]ᵀ), the {@code part}-th of {@code parts} slices of C. */
    public static void nt(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate,
                          GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
        gemm(NT, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, ws, part, parts, parts, false);
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n] */
    public static void tn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        gemm(TN, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, null, local(m, n, k), 0, 1, 1, false);
    }

    /** C[m,n] = ep((+)A[k,m]ᵀ · B[k,n]), the {@code part}-th of {@code parts} slices of C. */
    public static void tn(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate,
                          GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
        gemm(TN, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, ws, part, parts, parts, false);
    }

    /**
     * C[m,n] = ep((+)op(A)·op(B)) in form {@code form} ({@link #NN}, {@link #NT}, {@link #TN}), the {@code part}-th
     * of {@code parts} slices of C.
     */
    public static void run(int form, int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                           boolean accumulate, GemmEpilogue ep, GemmWorkspace ws, int part, int parts) {
        gemm(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, ws, part, parts, parts, false);
    }

    /**
     * Chunk {@code chunk} of {@link #chunks}{@code (form, m, n, k, accumulate, parts)} of a product split over
     * {@code parts} threads that claim chunks as they come free: C = ep((+)op(A)·op(B)) on that chunk's columns (or
     * rows: the dimension {@code parts} parts would split). {@code packed}: {@code ws} holds this product's packed
     * shared operand (the whole of A for a column split, of B for a row split) from a chunk this thread ran before,
     * with the same operands and nothing packed into {@code ws} since; it is then not packed again, so a thread packs
     * it once however many chunks it takes, as with one static part a thread.
     */
    public static void runChunk(int form, int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                boolean accumulate, GemmEpilogue ep, GemmWorkspace ws, int chunk, int chunks, int parts,
                                boolean packed) {
        gemm(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, ws, chunk, chunks, parts, packed);
    }

    /** Chunks a thread's part of a split product takes, nominally: more than one, so a faster thread can take more. */
    static final int CHUNKS_PER_PART = 4;

    /**
     * How many chunks a product split over {@code parts} threads is cut into for {@link #runChunk}, each taken by
     * whichever thread is free (so a thread on a slower or later-woken core takes fewer), or 0 when it is
     * split into {@code parts} static parts instead. Chunks are whole register blocks along the dimension the
     * static split would cut, at most {@value #CHUNKS_PER_PART} a part; only blocked products whose shared operand
     * (A for a column split, B for a row split) is one packed block take them, so that a thread packs it once and
     * reuses it for every chunk it takes: no more packing than one part a thread.
     */
    public static int chunks(int form, int m, int n, int k, boolean accumulate, int parts) {
        if (parts < 2 || !Simd.VECTORIZED || m <= 0 || n <= 0 || k <= 0 || k > KC || !worthSplitting(m, n, k, parts)) return 0;
        Path path = path(form, m, n, k, accumulate);
        if (path != Path.BLOCKED) return 0;
        boolean columns = splitsColumns(m, n, MR, NR, parts, path);
        if (columns ? m > MC : n > NC) return 0;
        int blocks = columns ? (n + NR - 1) / NR : (m + MR - 1) / MR;
        int chunks = Math.min(blocks, CHUNKS_PER_PART * parts);
        return chunks > parts ? chunks : 0;
    }

    /** The depth of the blocked path's K blocks: equal blocks of at most KC, multiples of 8. */
    private static int kBlock(int k) {
        int kBlocks = (k + KC - 1) / KC;
        return ((k + kBlocks - 1) / kBlocks + 7) / 8 * 8;
    }

    // (a short k with n <= NC fits any workspace that fits the problem: k x roundUp(n) <= KC x NC)
    private static boolean shortK(int form, int n, int k, boolean accumulate) {
        return n > NARROW && !accumulate && form != TN && k <= Math.min(SHORT_K, KC) && n <= NC;
    }

    private static boolean direct(int form, int m) {
        return form != NT && m <= SMALL_M;
    }

    /**
     * The paths of the family, one per kernel set: {@link #path} picks one from the problem's shape alone.
     * {@code label} names it in plan descriptions.
     */
    public enum Path {
        /** No SIMD here: the scalar twins. */
        SCALAR("scalar", false),
        /** A·B with C exactly one vector wide: a vector of C per row ({@code GemmNarrow.rowVectors}). */
        ROWS("narrow: row vectors", true),
        /** Aᵀ·B with a narrow C: outer products of A's rows ({@code GemmNarrow.outer}). */
        OUTER("narrow: outer products", true),
        /** A·B or A·Bᵀ with a narrow C: dot products with Bᵀ's rows, lane sums by a tree ({@code GemmNarrow.dots}). */
        DOTS("narrow: dot products", true),
        /** A short inner dimension (an output layer's dx): B packed once, A in place ({@code GemmNarrow.shortK}). */
        SHORT_K("short k", false),
        /** At most {@value GemmBlocking#SMALL_M} rows of A (GEMV-like): A and B read in place. */
        SMALL_M("small M", false),
        /** Packed panels, cache blocks and the register block ({@link GemmKernel}). */
        BLOCKED("blocked", false);

        public final String label;
        final boolean narrow;

        Path(String label, boolean narrow) {
            this.label = label;
            this.narrow = narrow;
        }
    }

    /** The path a product of form {@code form} (NN, NT, TN) with C of m x n and inner size k takes (not the split). */
    public static Path path(int form, int m, int n, int k, boolean accumulate) {
        if (!Simd.VECTORIZED) return Path.SCALAR;
        if (narrow(n)) return n == L && form == NN ? Path.ROWS : form == TN ? Path.OUTER : Path.DOTS;
        if (shortK(form, n, k, accumulate)) return Path.SHORT_K;
        return direct(form, m) ? Path.SMALL_M : Path.BLOCKED;
    }

    // the rows and columns of C a thread split keeps together: whole register blocks of the path
    private static int rowBlock(Path path) {
        return switch (path) {
            case ROWS -> GemmNarrow.VECTOR_ROWS;
            case OUTER -> L;
            case DOTS -> GemmNarrow.DOT_ROWS;
            case SHORT_K -> GemmKernel.ROWS;
            default -> MR;
        };
    }

    private static int columnBlock(Path path) {
        return path.narrow ? NARROW : NR;
    }

    /**
     * Whether {@code parts} parts of this product split C's columns rather than its rows, so that each part writes
     * part of every row of C. An element-wise pass over C split that way runs slowly (see the split below), so an
     * executor splitting such a product runs its epilogue apart, split by rows ({@link GemmEpilogue#applyRows}).
     */
    public static boolean splitsColumns(int form, int m, int n, int k, boolean accumulate, int parts) {
        if (parts < 2 || !Simd.VECTORIZED || m <= 0 || n <= 0) return false;
        Path path = path(form, m, n, k, accumulate);
        return splitsColumns(m, n, rowBlock(path), columnBlock(path), parts, path);
    }

    // split the dimension whose split duplicates less packing (N duplicates A, M duplicates B). Small M splits columns
    // (there are few rows). A short k splits rows (6-row blocks, its kernel's) where there are at least 4 blocks a
    // part, so the parts stay within a quarter of each other: its packed B is at most SHORT_K rows, so duplicating it
    // costs little, while a column split has both cores write part of every row of C, and the prefetchers then pull
    // lines across: the relu' pass over a column-split 128 x 256 C took 8-12 us a part on two threads against
    // 3.4-3.8 us for all of it on one (a row split: 1.5-2.0), and the output layer's dx·relu' 15.8-20.9 us split by
    // columns against 8.6-10.9 by rows (probe)
    private static boolean splitsColumns(int m, int n, int mrb, int nrb, int parts, Path path) {
        int mBlocks = (m + mrb - 1) / mrb, nBlocks = (n + nrb - 1) / nrb;
        if (path == Path.SMALL_M) return true;
        if (path == Path.SHORT_K && mBlocks >= 4 * parts) return false;
        return nBlocks >= parts && (mBlocks < parts || m <= n);
    }

    /**
     * Whether a GEMM of this size is worth splitting over {@code parts} threads: m·n·k of 2^17 a part or more
     * (a quarter MFLOP). A dispatch to a spinning worker costs about a microsecond; on two threads the 10-wide
     * output layer's products (0.65 MFLOP) took 8.9 and 10.1 us in a training step split, 15.8 and 18.9 us not.
     */
    public static boolean worthSplitting(int m, int n, int k, int parts) {
        return parts > 1 && (long) m * n * k >= (1L << 17) * parts;
    }

    private static GemmWorkspace local(int m, int n, int k) {
        GemmWorkspace[] holder = LOCAL.get();
        GemmWorkspace ws = holder[0];
        if (ws == null || !ws.fits(m, n, k)) holder[0] = ws = new GemmWorkspace(m, n, k);
        return ws;
    }

    // part of parts of C, as splitParts threads would split it (the dimension); packed: ws holds the shared operand
    private static void gemm(int form, int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                             boolean accumulate, GemmEpilogue ep, GemmWorkspace ws, int part, int parts, int splitParts,
                             boolean packed) {
        if (m <= 0 || n <= 0) return;
        if (ep != null && ep.isNone()) ep = null;
        if (!Simd.VECTORIZED) {
            if (part == 0) scalar(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep);
            return;
        }
        // element (i, p) of A and (p, j) of B as strides
        int aRs = form == TN ? 1 : k, aCs = form == TN ? m : 1;
        int bRs = form == NT ? 1 : n, bCs = form == NT ? k : 1;
        // the path depends on the whole problem only, never on the split (bitwise identical results)
        Path path = path(form, m, n, k, accumulate);
        boolean narrow = path.narrow, direct = path == Path.SMALL_M;
        int mrb = rowBlock(path), nrb = columnBlock(path);
        // this part's rows [i0, i1) and columns [j0, j1), in whole register blocks
        int i0 = 0, i1 = m, j0 = 0, j1 = n;
        boolean columns = false;
        if (parts > 1) {
            int mBlocks = (m + mrb - 1) / mrb;
            columns = splitsColumns(m, n, mrb, nrb, splitParts, path);
            if (columns) {
                // whole register blocks (whole vectors): every column takes the same vector or scalar path of the epilogue
                int nBlocks = (n + nrb - 1) / nrb;
                j0 = Math.min(n, nrb * (int) ((long) nBlocks * part / parts));
                j1 = Math.min(n, nrb * (int) ((long) nBlocks * (part + 1) / parts));
            } else {
                i0 = Math.min(m, mrb * (int) ((long) mBlocks * part / parts));
                i1 = Math.min(m, mrb * (int) ((long) mBlocks * (part + 1) / parts));
            }
            if (i0 >= i1 || j0 >= j1) return;
        }
        if (k <= 0) {
            // empty sum: C = ep(beta C)
            for (int i = i0; i < i1; i++) {
                for (int j = j0; j < j1; j++) {
                    int ci = i * n + j;
                    float s = accumulate ? c[cOff + ci] : 0f;
                    c[cOff + ci] = ep == null ? s : ep.applyScalar(s, j, ci);
                }
            }
            return;
        }
        if (narrow) {
            if (path == Path.ROWS) {
                // A·B with C one vector wide (16 classes with 16 lanes): a vector of C per row, nothing packed, no lane sums
                GemmNarrow.rowVectors(k, a, aOff, b, bOff, c, cOff, accumulate, i0, i1);
            } else if (path == Path.OUTER) {
                // narrow C = Aᵀ·B: Cᵀ = Bᵀ·A by outer products of A's rows (A in place; B in place for 10-column blocks
                // with 16 lanes, else five columns of B packed at a time)
                GemmNarrow.outer(m, n, k, a, aOff, b, bOff, c, cOff, accumulate, i0, i1, ws.packB, ws.tile);
            } else if (form == NN && GemmNarrow.tenClasses(n, k)) {
                // ten classes: Bᵀ packed interleaved, 2 rows x 10 columns at a time, stored by vectors
                GemmNarrow.packInterleaved(k, b, bOff, ws.packB);
                GemmNarrow.dots10(k, a, aOff, ws.packB, c, cOff, accumulate, i0, i1, ws.tile);
            } else {
                // narrow C, rows of A contiguous: dot products with Bᵀ's rows (nt has Bᵀ in place, nn packs it)
                float[] bt = b;
                int bt0 = bOff;
                if (form == NN) {
                    packTransposed(n, k, b, bOff, ws.packB);
                    bt = ws.packB;
                    bt0 = 0;
                }
                GemmNarrow.dots(n, k, a, aOff, bt, bt0, c, cOff, accumulate, i0, i1, ws.tile);
            }
            if (ep != null) ep.applyBlock(c, cOff, i0, 0, n, i1 - i0, n);
            return;
        }
        if (path == Path.SHORT_K) {
            // a short inner dimension (an output layer's dx): B's columns [j0, j1) packed once, A in place,
            // whole blocks stored straight into C
            int ldb = (j1 - j0 + NR - 1) / NR * NR;
            GemmKernel.packRows(form == NT, k, b, bOff, n, j0, j1, ldb, ws.packB);
            GemmNarrow.shortK(n, k, a, aOff, ws.packB, ldb, c, cOff, i0, i1, j0, j1, ws.tile);
            if (ep != null) ep.applyBlock(c, cOff, i0, j0, n, i1 - i0, j1 - j0);
            return;
        }
        if (direct) {
            direct(n, k, a, aOff, aRs, aCs, b, bOff, c, cOff, accumulate, ep, ws, i0, i1, j0, j1);
            return;
        }
        int kb = kBlock(k);
        // a chunk after this thread's first of the same product: its shared operand, one block (chunks), is packed
        boolean aPacked = packed && columns && m <= MC && k <= KC, bPacked = packed && !columns && n <= NC && k <= KC;
        // jc: N blocks (packed B in L3)
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            // pc: K blocks (a KC x NR panel of B in L2) of equal depth, not KC, KC, ..., a sliver (1100 = 552 + 548,
            // not 1024 + 76: a short block pays the whole per-block cost); the epilogue after the last
            for (int pc = 0; pc < k; pc += kb) {
                int kc = Math.min(kb, k - pc);
                boolean beta = accumulate || pc > 0;
                GemmEpilogue e = pc + kc == k ? ep : null;
                // ic: M blocks (packed A in L2)
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    if (!aPacked) GemmKernel.packA(a, aOff, aRs, aCs, ic, mc, pc, kc, ws.packA);
                    // jr, ir: register blocks, one B panel against every A panel
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        // B's panel packed just before its first use, by the first M block, while it is hot in cache
                        // (against packing the whole KC x NC block first: neutral in the MLP step, +0.2 to +1.2 %)
                        if (ic == i0 && !bPacked) GemmKernel.packB(NR, b, bOff, bRs, bCs, pc, kc, jc + jr, nr, ws.packB, jr * kc);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            if (mr == MR && nr == NR) {
                                // a whole block: accumulators start from 0 or from C in registers, no tile
                                int ci = cOff + (ic + ir) * n + jc + jr;
                                GemmKernel.kernelWhole(kc, ws.packA, ir * kc, ws.packB, jr * kc, beta, c, ci, n);
                            } else {
                                GemmKernel.edge(kc, ws.packA, ir * kc, ws.packB, jr * kc, mr, nr, c, cOff, ic + ir, jc + jr, n, beta, ws.tile);
                            }
                        }
                    }
                    // the epilogue over this M x N block once it is final: whole rows of nc columns, not a call
                    // per register block, whose loop overheads cost 15-20% of a 256-deep product
                    if (e != null) e.applyBlock(c, cOff, ic, jc, n, mc, nc);
                }
            }
        }
    }

    /**
     * bt[j*k + p] = B[p, j] for j < n, p < k: B (k x n) row-major transposed, for the dot-product paths. With
     * 16 lanes, 16 rows of B at a time by a register transpose (rows n..15 of bt get scratch values; bt holds
     * 16 x k floats), where the 16-wide reads stay inside b; the rest by scalar copies.
     */
    private static void packTransposed(int n, int k, float[] b, int bOff, float[] bt) {
        int p = 0;
        if (L == 16 && n <= 16) {
            for (; p + 16 <= k && bOff + (p + 15) * n + 16 <= b.length; p += 16) GemmKernel.transpose16(b, bOff + p * n, n, bt, p, k, n);
        }
        // tail
        for (int j = 0; j < n; j++) {
            for (int q = p; q < k; q++) bt[j * k + q] = b[bOff + q * n + j];
        }
    }

    // small M: A and B read in place, whole k per block; only a ragged last column panel of B is packed. Over whole
    // 4-vector panels (2 x NR columns), with 16 lanes every row in 4-vector blocks of 1 to 5 rows as smallRows picks
    // them (mostly 4 and 5); with 8 lanes (AVX2's 16 registers) 6-row blocks and a last 2-3 rows as 3 x 4 vectors, a
    // last single row as 1 x 4 vectors. The other columns, and the rows the 4-vector blocks leave, in 6 x 2-vector
    // blocks
    private static void direct(int n, int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff,
                               float[] c, int cOff, boolean accumulate, GemmEpilogue ep, GemmWorkspace ws,
                               int i0, int i1, int j0, int j1) {
        int tail = (i1 - i0) % GemmKernel.ROWS;
        int iWide = L == 16 ? i0 : i1 - tail;
        int jWide = L == 16 || (tail > 0 && tail <= 3) ? j0 + (j1 - j0) / (2 * NR) * (2 * NR) : j0;
        for (int jr = j0; jr < jWide; jr += 2 * NR) {
            for (int ir = iWide, mr; ir < i1; ir += mr) {
                mr = smallRows(i1 - ir);
                int ai = aOff + ir * aRs, ci = cOff + ir * n + jr;
                if (mr == 1) GemmKernel.kernel1x4(k, a, ai, aCs, b, bOff + jr, n, accumulate, c, ci);
                else if (mr <= 3) GemmKernel.kernel3x4(k, a, ai, aRs, aCs, mr, b, bOff + jr, n, accumulate, c, ci, n);
                else if (mr == 4) GemmKernel.kernel4x4(k, a, ai, aRs, aCs, b, bOff + jr, n, accumulate, c, ci, n);
                else GemmKernel.kernel5x4(k, a, ai, aRs, aCs, b, bOff + jr, n, accumulate, c, ci, n);
            }
        }
        for (int jr = j0; jr < j1; jr += NR) {
            int nr = Math.min(NR, j1 - jr);
            float[] bp = b;
            int bo = bOff + jr, brs = n;
            if (nr < NR) {
                GemmKernel.packB(NR, b, bOff, n, 1, 0, k, jr, nr, ws.packB, 0);
                bp = ws.packB;
                bo = 0;
                brs = NR;
            }
            for (int ir = i0; ir < (jr < jWide ? iWide : i1); ir += GemmKernel.ROWS) {
                int mr = Math.min(GemmKernel.ROWS, i1 - ir);
                GemmKernel.kernel6x2(k, a, aOff + ir * aRs, aRs, aCs, mr, bp, bo, brs, c, cOff, ir, jr, n, nr, accumulate, ws.tile);
            }
        }
        // the epilogue once over this part's whole rows
        if (ep != null) ep.applyBlock(c, cOff, i0, j0, n, i1 - i0, j1 - j0);
    }

    /**
     * Rows of the next 4-vector block of the small-M path (16 lanes) with {@code left} rows to go: 4-row blocks, one
     * or two of 5 rows first where the count is 1 or 2 more than a multiple of 4, a 3-row block last where it is 3
     * more, and 1, 2 or 6 rows as 1, 2 or 3 + 3: 5 = 5, 6 = 3 + 3, 7 = 4 + 3, 9 = 5 + 4, 10 = 5 + 5, 11 = 4 + 4 + 3,
     * 16 = 4 x 4. Paired against OpenBLAS, 4-row
     * blocks beat 5 + 5 + 2 at 12 rows (1.51-1.53 against 1.29-1.40) and 5 + 5 + 3 + 3 at 16 (1.46-1.55 against
     * 1.34-1.36), and 5 + 4 beat 4 + 4 + 1 at 9 (1.07-1.13 against 0.82-0.94).
     */
    static int smallRows(int left) {
        return switch (left % 4) {
            case 0 -> 4;
            case 1 -> left == 1 ? 1 : 5;
            case 2 -> left == 2 ? 2 : left == 6 ? 3 : 5;
            default -> left == 3 ? 3 : 4;
        };
    }

    // the scalar fallback: the twins below, then the epilogue
    private static void scalar(int form, int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                               boolean accumulate, GemmEpilogue ep) {
        switch (form) {
            case NN -> nnScalar(m, n, k, a, aOff, b, bOff, c, cOff, accumulate);
            case NT -> ntScalar(m, n, k, a, aOff, b, bOff, c, cOff, accumulate);
            default -> tnScalar(m, n, k, a, aOff, b, bOff, c, cOff, accumulate);
        }
        if (ep != null) {
            for (int i = 0; i < m * n; i++) c[cOff + i] = ep.applyScalar(c[cOff + i], i % n, i);
        }
    }

    /**
     * C[m,n] (+)= A[m,k] · B[k,n], scalar twin of {@link #nn}: each element one fma chain over p in order, from C
     * (accumulate) or 0, as every vector path but the narrow dot products computes it (so those paths equal it
     * bitwise, and without SIMD a served dense layer ({@code Gemv}, also fma chains) equals the training one).
     */
    public static void nnScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[aOff + i * k + p], b[bOff + p * n + j], s);
                c[cOff + i * n + j] = s;
            }
        }
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ, scalar twin of {@link #nt}: fma chains from C or 0, as {@link #nnScalar}. */
    public static void ntScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[aOff + i * k + p], b[bOff + j * k + p], s);
                c[cOff + i * n + j] = s;
            }
        }
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n], scalar twin of {@link #tn}: fma chains from C or 0, as {@link #nnScalar}. */
    public static void tnScalar(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = accumulate ? c[cOff + i * n + j] : 0f;
                for (int p = 0; p < k; p++) s = Math.fma(a[aOff + p * m + i], b[bOff + p * n + j], s);
                c[cOff + i * n + j] = s;
            }
        }
    }
}
