package dev.vgrad.kernel;

/**
 * Packing buffers for one thread's share of a GEMM: a packed MC x KC block of A, a packed KC x NC
 * block of B (also narrow nn's Bᵀ and the short-k path's k x n panel) and one tile for a register block
 * (the largest is {@link GemmNarrow}'s 5 x 4-vector outer-product block). Allocated once (the runtime sizes one per worker
 * from its plan's largest GEMM at construction) and reused by every call: the kernels never allocate.
 */
public final class GemmWorkspace {
    final float[] packA;
    final float[] packB;
    final float[] tile;

    /** A workspace large enough for any C of at most {@code maxM} x {@code maxN} with inner size {@code maxK}. */
    public GemmWorkspace(int maxM, int maxN, int maxK) {
        int L = GemmBlocking.L, MR = GemmBlocking.MR, NR = GemmBlocking.NR;
        int kc = Math.max(1, Math.min(GemmBlocking.KC, maxK));
        int mc = roundUp(Math.max(1, Math.min(GemmBlocking.MC, maxM)), MR);
        int nc = roundUp(Math.max(1, Math.min(GemmBlocking.NC, maxN)), NR);
        this.packA = new float[mc * kc];
        // at least one full-depth edge panel of B (k x NR) for the unpacked small-M path
        this.packB = new float[Math.max(nc * kc, Math.max(1, maxK) * NR)];
        this.tile = new float[Math.max(MR * NR, GemmNarrow.SUMS4 + L)];
    }

    /** Floats held (for plan descriptions). */
    public int size() { return packA.length + packB.length + tile.length; }

    /** True when this workspace can run a GEMM with these sizes. */
    public boolean fits(int m, int n, int k) {
        int kc = Math.min(GemmBlocking.KC, k);
        int mc = roundUp(Math.min(GemmBlocking.MC, m), GemmBlocking.MR);
        int nc = roundUp(Math.min(GemmBlocking.NC, n), GemmBlocking.NR);
        return packA.length >= mc * kc && packB.length >= Math.max(nc * kc, k * GemmBlocking.NR);
    }

    static int roundUp(int v, int m) { return (v + m - 1) / m * m; }
}
