package dev.vgrad.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The GEMM family's register and cache blocking, fixed once at class load.
 *
 * <p>Register block: MR x NR = 8 rows by 2 vectors with 16 lanes (16 accumulators of AVX-512's 32 registers),
 * 4 rows by 2 vectors with 8 lanes (AVX2 has 16 registers: C2 spilled three of a 6 x 2 block's 12 accumulators
 * in the loop, 38 against 69-80 GFLOPS under -XX:UseAVX=2), and with 4.
 * Species: the widest the CPU has (512-bit on AVX-512). Measured on Zen 4 (GFLOP per CPU-second,
 * 256-bit vs 512-bit, KC 384): 90.7 vs 89.1 at n = 256, 78.5 vs 86.2 at n = 1024, 90.0 vs 86.3 on
 * 128x784·784x256, 27.2 vs 35.5 on the narrow 128x256·256x10; equal within noise on large products and
 * 512-bit clearly ahead on narrow ones, so 512-bit: {@link Simd#FLOATS}, the species of every kernel
 * ({@code -Dvgrad.vector.bits=256} to compare).
 *
 * <p>Cache blocks (after BLIS's analytical model, KC tuned by measurement): a KC x NR panel of packed B
 * is reused by every MR-row panel of A; an MC x KC block of packed A fits in half of L2; a KC x NC
 * block of packed B in half of L3. Cache sizes come from
 * {@code /sys/devices/system/cpu/cpu0/cache/index*} (32 KiB / 1 MiB / 8 MiB when unreadable).
 */
public final class GemmBlocking {
    private GemmBlocking() {}

    /** The GEMM micro-kernel's species: every kernel's. */
    static final VectorSpecies<Float> S = Simd.FLOATS;
    /** Floats per vector. */
    static final int L = S.length();
    /** Rows of the register block. */
    static final int MR = L >= 16 ? 8 : 4;
    /** Columns of the register block: two vectors. */
    static final int NR = 2 * L;
    /** Cache sizes in bytes: L1 data, L2, L3. */
    static final long L1 = cacheBytes(1, 32 * 1024), L2 = cacheBytes(2, 1024 * 1024), L3 = cacheBytes(3, 8 * 1024 * 1024);
    /**
     * Depth of a K block: a KC x NR panel of B in an eighth of L2, at most 1024 (a multiple of 8;
     * {@code -Dvgrad.gemm.kc} overrides). Zen 4's L2 feeds the kernel's 10 bytes a cycle with room to spare,
     * so the panel need not sit in L1, and the deeper the block, the fewer times C is read and written
     * back. Measured with the 8 x 2-vector block (GFLOP per CPU-second, medians of 12 alternating runs),
     * KC 384 vs 1024: 84.7 vs 97.5 at n = 1024, 83.7 vs 96.8 at n = 512, 93.2 vs 99.8 on 128x784·784x256;
     * KC 2048 was no better than 1024 at n = 1024 and 2048.
     */
    static final int KC = clamp(Integer.getInteger("vgrad.gemm.kc", (int) (L2 / 8 / (4L * NR))) / 8 * 8, 8, 1024);
    /** Rows of an M block: MC x KC floats of A in half of L2 (a multiple of MR). */
    static final int MC = clamp((int) (L2 / 2 / (4L * KC)) / MR * MR, MR, 1020);
    /** Columns of an N block: KC x NC floats of B in half of L3 (a multiple of NR). */
    static final int NC = clamp((int) (L3 / 2 / (4L * KC)) / NR * NR, NR, 4096 / NR * NR);
    /**
     * An inner dimension at most this short (an output layer's dx, k = classes) takes
     * {@link GemmNarrow#shortK}: B packed once, A in place, no K blocking, whole blocks stored straight into C.
     */
    static final int SHORT_K = 32;
    /** At most this many rows take the unpacked (GEMV-like) path, reading A and B in place. */
    static final int SMALL_M = 16;

    /**
     * Lane masks and swaps of the register transposes (GemmNarrow's lane-sum trees, GemmKernel's transposes and
     * register packing: transpose16, transpose8, packRows8, packRows4; null for distances as wide as the vector): at distance d (8, 4, 2, 1), Md selects the lanes i
     * with bit d set and Xd swaps lanes i and i ^ d, so one blend and one swap trade the d x d sub-blocks of two rows.
     */
    static final VectorMask<Float> M8 = mask(8), M4 = mask(4), M2 = mask(2), M1 = mask(1);
    static final VectorShuffle<Float> X8 = swap(8), X4 = swap(4), X2 = swap(2), X1 = swap(1);

    private static VectorMask<Float> mask(int d) {
        if (d >= L) return null;
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) bits[i] = (i & d) != 0;
        return VectorMask.fromArray(S, bits, 0);
    }

    private static VectorShuffle<Float> swap(int d) {
        if (d >= L) return null;
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) idx[i] = i ^ d;
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /** e.g. "512-bit, 8x32 register block, KC 1024 MC 128 NC 4096 (L1 32K, L2 1024K, L3 32768K)". */
    public static String describe() {
        return S.vectorBitSize() + "-bit, " + MR + "x" + NR + " register block, KC " + KC + " MC " + MC + " NC " + NC
                + " (L1 " + L1 / 1024 + "K, L2 " + L2 / 1024 + "K, L3 " + L3 / 1024 + "K)";
    }

    private static long cacheBytes(int level, long fallback) {
        for (int i = 0; i < 8; i++) {
            Path dir = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i);
            try {
                if (!Files.isDirectory(dir)) continue;
                int lvl = Integer.parseInt(Files.readString(dir.resolve("level")).trim());
                String type = Files.readString(dir.resolve("type")).trim();
                if (lvl != level || type.equals("Instruction")) continue;
                String size = Files.readString(dir.resolve("size")).trim().toUpperCase();
                long mult = size.endsWith("K") ? 1024 : size.endsWith("M") ? 1024 * 1024 : 1;
                long v = Long.parseLong(size.replaceAll("[^0-9]", "")) * mult;
                return v > 0 ? v : fallback;
            } catch (IOException | RuntimeException e) {
                return fallback;
            }
        }
        return fallback;
    }

    private static int clamp(int v, int lo, int hi) { return Math.max(lo, Math.min(hi, v)); }
}
