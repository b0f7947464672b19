package dev.vgrad.runtime;

import static dev.vgrad.runtime.SplitGemm.PAD;
import static dev.vgrad.runtime.SplitGemm.claim;
import static dev.vgrad.runtime.SplitGemm.share;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.GemmEpilogue;
import dev.vgrad.kernel.GemmWorkspace;
import dev.vgrad.kernel.Simd;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** One GEMM split over threads as a training step splits it (static parts, chunks, an epilogue apart) gives the bits of one thread. */
class SplitGemmTest {

    // form, m, n, k, accumulate, epilogue (0 none, 1 bias + leaky ReLU, 2 relu' of v), what the split is
    private static final Object[][] CASES = {
        {Gemm.NN, 64, 256, 300, false, 1, "chunks, columns (A one block), epilogue apart"},
        {Gemm.TN, 300, 256, 64, true, 0, "chunks, rows (B one block), beta 1"},
        {Gemm.NN, 96, 200, 1500, false, 1, "static columns (k deeper than one K block), epilogue apart"},
        {Gemm.NT, 301, 256, 10, false, 2, "short k split by rows, relu' fused"},
        {Gemm.NN, 7, 512, 256, false, 1, "small M split by columns, epilogue apart"},
        {Gemm.NN, 128, 10, 256, false, 1, "narrow dot products"},
        {Gemm.TN, 256, 10, 128, true, 0, "narrow outer products, beta 1"},
        {Gemm.NN, 9, 13, 17, false, 1, "too small to split: the calling thread"},
    };

    @Test
    void everyPathSplitOverTwoToFourThreadsGivesTheBitsOfOne() {
        SplittableRandom r = new SplittableRandom(21);
        for (Object[] cs : CASES) {
            int form = (int) cs[0], m = (int) cs[1], n = (int) cs[2], k = (int) cs[3];
            boolean acc = (boolean) cs[4];
            float[] a = random(r, m * k + 3), b = random(r, k * n + 5), c0 = random(r, m * n + 7);
            float[] bias = random(r, n), v = random(r, m * n + 7);
            GemmEpilogue ep = epilogue((int) cs[5], bias, v);
            float[] one = c0.clone();
            Gemm.run(form, m, n, k, a, 3, b, 5, one, 7, acc, ep, new GemmWorkspace(m, n, k), 0, 1);
            for (int threads = 1; threads <= 4; threads++) {
                SplitGemm split = new SplitGemm(m, n, k, threads);
                float[] c = c0.clone();
                // twice: the second product reuses the workspaces and the chunk ranges
                for (int rep = 0; rep < 2; rep++) {
                    System.arraycopy(c0, 0, c, 0, c.length);
                    split.run(form, m, n, k, a, 3, b, 5, c, 7, acc, ep);
                }
                assertArrayEquals(one, c, cs[6] + " on " + threads + " threads");
                assertEquals(Simd.VECTORIZED ? 2 * Math.min(1, Gemm.chunks(form, m, n, k, acc, threads)) : 0, split.chunkedRuns(),
                        cs[6] + ": chunked runs on " + threads + " threads");
            }
        }
    }

    @Test
    void theCasesTakeThePathsTheySayOnTwoThreads() {
        Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        // the chunked cases need A of 64 rows x 300 and B of 256 columns x 300 in one packed block (an L2 of 256 KiB or more)
        Assumptions.assumeTrue(Gemm.chunks(Gemm.NN, 64, 256, 300, false, 2) > 2, "blocks too small here");
        assertEquals(true, Gemm.chunks(Gemm.TN, 300, 256, 64, true, 2) > 2);
        assertEquals(true, Gemm.splitsColumns(Gemm.NN, 64, 256, 300, false, 2));
        assertEquals(0, Gemm.chunks(Gemm.NN, 96, 200, 1500, false, 2));
        assertEquals(true, Gemm.splitsColumns(Gemm.NN, 96, 200, 1500, false, 2));
        assertEquals(false, Gemm.splitsColumns(Gemm.NT, 301, 256, 10, false, 2));
        assertEquals(true, Gemm.splitsColumns(Gemm.NN, 7, 512, 256, false, 2));
        assertEquals(false, Gemm.worthSplitting(9, 13, 17, 2));
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void oneSplitGemmGivesTheBitsOfOneThreadAsItsThreadCountChangesAndWhenTheCallerRunsTheWorkersParts() {
        // one SplitGemm whose thread count goes up and down (whatever the host's default), every other product with the
        // workers held so that the caller runs their parts, each with that part's workspace
        SplittableRandom r = new SplittableRandom(22);
        int[] threadCounts = {2, 4, 1, 3, 2, 4};
        for (Object[] cs : CASES) {
            int form = (int) cs[0], m = (int) cs[1], n = (int) cs[2], k = (int) cs[3];
            boolean acc = (boolean) cs[4];
            float[] a = random(r, m * k), b = random(r, k * n), c0 = random(r, m * n), bias = random(r, n);
            GemmEpilogue ep = (int) cs[5] == 1 ? new GemmEpilogue(bias, 0, Activation.RELU, 0f, null, 0) : null;
            float[] one = c0.clone();
            Gemm.run(form, m, n, k, a, 0, b, 0, one, 0, acc, ep, new GemmWorkspace(m, n, k), 0, 1);
            SplitGemm split = new SplitGemm(m, n, k, 1);
            float[] c = new float[c0.length];
            for (int i = 0; i < 2 * threadCounts.length; i++) {
                split.setThreads(threadCounts[i / 2]);
                boolean held = i % 2 == 1;
                WorkerPool.common().holdWorkers(held);
                try {
                    System.arraycopy(c0, 0, c, 0, c.length);
                    split.run(form, m, n, k, a, 0, b, 0, c, 0, acc, ep);
                } finally {
                    WorkerPool.common().holdWorkers(false);
                }
                assertArrayEquals(one, c, cs[6] + " on " + split.threads() + " threads" + (held ? ", workers held" : ""));
            }
        }
    }

    @Test
    void describeSaysHowRunSplitsEachProduct() {
        Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        Assumptions.assumeTrue(Gemm.chunks(Gemm.NN, 64, 256, 300, false, 2) > 2, "blocks too small here");
        // hand-worked for two threads, at 16 lanes (8 x 32 blocks) and 8 (4 x 16) alike: 256 columns are 8 or 16 column
        // blocks and 300 rows 38 or 75 row blocks, so at most 4 chunks a thread, 8; fc1's forward shape (64 rows <= MC)
        String[] want = {
            "8 chunks by columns, epilogue apart by rows",
            "8 chunks by rows",
            "2 parts by columns, epilogue apart by rows",
            "2 parts by rows",
            "2 parts by columns, epilogue apart by rows",
            "2 parts by rows",
            "2 parts by rows",
            "one thread",
        };
        SplittableRandom r = new SplittableRandom(23);
        for (int i = 0; i < CASES.length; i++) {
            Object[] cs = CASES[i];
            int form = (int) cs[0], m = (int) cs[1], n = (int) cs[2], k = (int) cs[3];
            boolean acc = (boolean) cs[4];
            GemmEpilogue ep = epilogue((int) cs[5], random(r, n), random(r, m * n + 7));
            assertEquals(want[i], SplitGemm.describe(form, m, n, k, acc, ep, 2), (String) cs[6]);
            // and what run does, on 1-4 threads: chunks exactly when it says so
            float[] a = random(r, m * k + 3), b = random(r, k * n + 5), c = random(r, m * n + 7);
            for (int threads = 1; threads <= 4; threads++) {
                SplitGemm split = new SplitGemm(m, n, k, threads);
                split.run(form, m, n, k, a, 3, b, 5, c, 7, acc, ep);
                String d = SplitGemm.describe(form, m, n, k, acc, ep, threads);
                assertEquals(d.contains("chunks") ? 1 : 0, split.chunkedRuns(), cs[6] + " on " + threads + " threads: " + d);
                assertEquals(!Gemm.worthSplitting(m, n, k, threads), d.equals("one thread"), d);
            }
        }
        assertEquals("2 parts by columns", SplitGemm.describeParts(Gemm.NT, 128, 256, 256, false, 2));
        assertEquals("one thread", SplitGemm.describeParts(Gemm.NT, 128, 256, 256, false, 1));
    }

    @Test
    void threadCountsBelowOneAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SplitGemm(8, 8, 8, 0));
        assertEquals("threads must be >= 1, got 0", e.getMessage());
    }

    @Test
    void everyChunkIsClaimedExactlyOnce() {
        // hand-worked: 8 chunks shared by 2 parts, claimed by part 0 alone: its own 0-3 from the front, then part 1's
        // 4-7 from the back
        AtomicLongArray ranges = new AtomicLongArray(2 * PAD);
        share(ranges, 8, 2);
        StringBuilder order = new StringBuilder();
        for (int c; (c = claim(ranges, 0)) >= 0; ) order.append(c);
        assertEquals("01237654", order.toString());
        // racing threads: every chunk once, for 1-4 parts and 1-17 chunks
        WorkerPool pool = WorkerPool.common();
        pool.ensureThreads(4);
        for (int parts = 1; parts <= 4; parts++) {
            for (int chunks = 1; chunks <= 17; chunks++) {
                for (int rep = 0; rep < 20; rep++) {
                    AtomicLongArray rs = new AtomicLongArray(parts * PAD);
                    share(rs, chunks, parts);
                    AtomicIntegerArray hits = new AtomicIntegerArray(chunks);
                    pool.run((part, ps) -> {
                        for (int c; (c = claim(rs, part)) >= 0; ) hits.incrementAndGet(c);
                    }, parts);
                    for (int c = 0; c < chunks; c++) assertEquals(1, hits.get(c), "chunk " + c + " of " + chunks + " on " + parts + " parts");
                }
            }
        }
    }

    // 0 none, 1 bias + leaky ReLU, 2 relu' of v (laid out like C at offset 7)
    private static GemmEpilogue epilogue(int kind, float[] bias, float[] v) {
        return switch (kind) {
            case 1 -> new GemmEpilogue(bias, 0, Activation.LEAKY_RELU, 0.1f, null, 0);
            case 2 -> GemmEpilogue.derivative(Activation.RELU, 0f, v, 7);
            default -> null;
        };
    }

    private static float[] random(SplittableRandom r, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }
}
