package dev.vgrad.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.Simd;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Training with the GEMMs split over 1, 2 and 3 threads gives bitwise identical parameters. */
class ExecutorThreadsTest {

    static Trainer mlp(int threads) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", 48, 97);
        Node h = b.relu(b.dense("fc1", x, 75));
        h = b.leakyRelu(b.dense("fc2", h, 50), 0.1f);
        b.mse(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.05f), 3);
        t.setThreads(threads);
        return t;
    }

    // 96-160-160-10 (ReLU, tanh, softmax cross-entropy) at batch 128: fc2's dx is large enough to split over a lane's two
    // threads; the output layer's and fc2's backward run side by side (steps 4-6 and 7-9)
    static Trainer laneMlp(Optimizer optimizer, int threads) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node h = b.relu(b.dense("fc1", b.input("x", 128, 96), 160));
        h = b.tanh(b.dense("fc2", h, 160));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), optimizer, 8);
        t.setThreads(threads);
        return t;
    }

    static float[] uniform(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextDouble();
        return x;
    }

    static int[] classes(SplittableRandom r, int n) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) y[i] = r.nextInt(10);
        return y;
    }

    @Test
    void trainingIsBitwiseIdenticalForOneTwoAndThreeThreads() {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = uniform(r, 48 * 97);
        float[] y = uniform(r, 48 * 10);
        float[] reference = null;
        double refLoss = 0;
        for (int threads = 1; threads <= 3; threads++) {
            Trainer t = mlp(threads);
            assertEquals(threads, t.threads());
            // fc2's dW, db and dx run side by side on 2 and 3 threads (lanes of 1 + 1 and 2 + 1 threads)
            assertEquals(10, t.plan().runEnd(7), t.plan().describe());
            double loss = 0;
            // full and partial batches
            for (int step = 0; step < 8; step++) loss = t.step(x, y, step % 3 == 2 ? 37 : 48);
            if (reference == null) {
                reference = t.params().clone();
                refLoss = loss;
            } else {
                assertArrayEquals(reference, t.params(), "parameters after 8 steps on " + threads + " threads");
                assertEquals(refLoss, loss, 0.0);
            }
        }
    }

    @Test
    void theOptimizerUpdateSplitOverThreadsIsBitwiseTheSameForEveryOptimizer() {
        // 330 x 301 + 301 x 7 parameters: more than 2^15 per thread for 3 threads, so the update itself is split (telemetry off:
        // the observed update stays on one thread); Adam and momentum SGD carry state across steps
        SplittableRandom r = new SplittableRandom(12);
        float[] x = uniform(r, 8 * 330);
        float[] y = uniform(r, 8 * 7);
        Optimizer[] optimizers = {new Optimizer.Adam(1e-3f), new Optimizer.AdamW(1e-3f),
                new Optimizer.Sgd(0.01f, 0.9f, true, 1e-4f)};
        for (Optimizer o : optimizers) {
            float[] reference = null, refState = null;
            for (int threads = 1; threads <= 3; threads++) {
                GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
                b.mse(b.dense("out", b.tanh(b.dense("fc", b.input("x", 8, 330), 301)), 7));
                Trainer t = new Trainer(b.build(), o, 4);
                t.telemetry().setInterval(0);
                t.setThreads(threads);
                for (int step = 0; step < 3; step++) t.step(x, y, 8);
                if (reference == null) {
                    reference = t.params().clone();
                    refState = t.optimizerState()[0].clone();
                } else {
                    assertArrayEquals(reference, t.params(), o + ": parameters on " + threads + " threads");
                    assertArrayEquals(refState, t.optimizerState()[0], o + ": optimizer state on " + threads + " threads");
                }
            }
        }
    }

    @Test
    void sideBySideLanesSplitTheirProductsAndGiveTheBitsOfOneThread() {
        // batch 128: fc2's dx (128 x 160 x 160, lane 0) is large enough to split over the 2 threads lane 0 gets on 3 and
        // 4 threads, and fc2's dW (lane 1) over lane 1's 2 on 4; a batch of 4 rows runs the steps one after another
        SplittableRandom r = new SplittableRandom(14);
        float[] x = uniform(r, 128 * 96);
        int[] y = classes(r, 128);
        float[] reference = null;
        for (int threads = 1; threads <= 4; threads++) {
            Trainer t = laneMlp(new Optimizer.Sgd(0.05f, 0.9f, false, 0f), threads);
            assertEquals(10, t.plan().runEnd(7), t.plan().describe());
            long before = t.executor().sideBySideRuns();
            for (int step = 0; step < 3; step++) t.step(x, y, 128);
            // per full step: the output layer's backward (steps 4-6) and fc2's (7-9)
            assertEquals(threads >= 2 ? 6 : 0, t.executor().sideBySideRuns() - before, "runs side by side on " + threads + " threads");
            before = t.executor().sideBySideRuns();
            t.step(x, y, 4);
            assertEquals(0, t.executor().sideBySideRuns() - before, "a 4-row batch runs its steps one after another");
            for (int step = 0; step < 2; step++) t.step(x, y, 100);
            if (reference == null) reference = t.params().clone();
            else assertArrayEquals(reference, t.params(), "parameters on " + threads + " threads");
        }
    }

    @Test
    void aColumnSplitProductsEpilogueRunApartGivesTheBitsOfOneThread() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        // GELU keeps its pre-activation (z) for the backward pass, and its dx·gelu' step writes where fc2's dW reads, so
        // the plan forms no side-by-side lanes: on 2 and 3 threads the forward (bias + GELU, z kept) and dx·gelu'
        // products of 128 rows by 250 and 173 columns split by columns and run their epilogues apart, split by rows
        assertTrue(Gemm.splitsColumns(Gemm.NN, 128, 250, 200, false, 2) && Gemm.splitsColumns(Gemm.NT, 128, 250, 173, false, 2));
        SplittableRandom r = new SplittableRandom(15);
        float[] x = new float[128 * 200];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        float[] y = uniform(r, 128 * 10);
        float[] reference = null;
        for (int threads = 1; threads <= 3; threads++) {
            GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
            Node h = b.gelu(b.dense("fc1", b.input("x", 128, 200), 250));
            h = b.gelu(b.dense("fc2", h, 173));
            b.mse(b.dense("out", h, 10));
            Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 7);
            t.setThreads(threads);
            for (int step = 0; step < 4; step++) t.step(x, y, step == 2 ? 100 : 128);
            if (reference == null) reference = t.params().clone();
            else assertArrayEquals(reference, t.params(), "parameters on " + threads + " threads");
        }
    }

    static Trainer chunkedMlp(int threads) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node h = b.relu(b.dense("fc1", b.input("x", 64, 300), 256));
        h = b.sigmoid(b.dense("fc2", h, 200));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.05f), 9);
        t.setThreads(threads);
        return t;
    }

    @Test
    void chunkedProductsGiveTheBitsOfOneThreadOnTwoToFourThreadsAndWhenThePoolIsBusy() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        // fc1's forward (a column split, A packed once a thread) and its dW (a row split, B packed once a thread) are cut
        // into chunks that free threads claim; with 3 and 4 threads a part that runs out takes the others' last chunks
        // (A of 64 rows and 300 deep is one packed block on an L2 of 256 KiB or more: MC >= 64, KC >= 512)
        org.junit.jupiter.api.Assumptions.assumeTrue(Gemm.chunks(Gemm.NN, 64, 256, 300, false, 2) > 2, "blocks too small here");
        assertTrue(Gemm.chunks(Gemm.TN, 300, 256, 64, false, 2) > 2);
        SplittableRandom r = new SplittableRandom(16);
        float[] x = uniform(r, 64 * 300);
        int[] y = classes(r, 64);
        int[] rows = {64, 64, 37};
        Trainer one = chunkedMlp(1);
        for (int n : rows) one.step(x, y, n);
        assertEquals(0, one.executor().chunkedRuns());
        for (int threads = 2; threads <= 4; threads++) {
            Trainer t = chunkedMlp(threads);
            for (int n : rows) t.step(x, y, n);
            assertTrue(t.executor().chunkedRuns() >= 6, "chunked products on " + threads + " threads: " + t.executor().chunkedRuns());
            assertArrayEquals(one.params(), t.params(), "parameters on " + threads + " threads");
        }
        // two trainers stepping at once: the one that finds the pool busy runs all its parts (and so every chunk) on its
        // own thread, one part after another
        Trainer a = chunkedMlp(2), b = chunkedMlp(2);
        Thread other = new Thread(() -> { for (int i = 0; i < 20; i++) for (int n : rows) b.step(x, y, n); });
        other.start();
        for (int i = 0; i < 20; i++) for (int n : rows) a.step(x, y, n);
        other.join();
        for (int i = 1; i < 20; i++) for (int n : rows) one.step(x, y, n);
        assertArrayEquals(one.params(), a.params(), "the first of two concurrent trainers");
        assertArrayEquals(one.params(), b.params(), "the second of two concurrent trainers");
    }

    @Test
    void aLargeInputTrainsBitwiseTheSameOnOneAndTwoThreads() {
        // a 512 x 2048 input (4 MiB packed, larger than any core's L2 here): two K blocks and several M blocks
        // in every GEMM of the first layer, split over two threads
        SplittableRandom r = new SplittableRandom(13);
        float[] x = uniform(r, 512 * 2048);
        float[] y = uniform(r, 512 * 3);
        float[] reference = null;
        for (int threads = 1; threads <= 2; threads++) {
            GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
            b.mse(b.dense("out", b.relu(b.dense("fc", b.input("x", 512, 2048), 640)), 3));
            Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 5);
            t.setThreads(threads);
            for (int step = 0; step < 2; step++) t.step(x, y, step == 0 ? 512 : 300);
            if (reference == null) reference = t.params().clone();
            else assertArrayEquals(reference, t.params(), "parameters on " + threads + " threads");
        }
    }

    @Test
    void poolRunsEveryPartOnceAndRethrowsFailures() {
        WorkerPool pool = WorkerPool.common();
        pool.ensureThreads(3);
        int[] hits = new int[3];
        for (int i = 0; i < 100; i++) pool.run((part, parts) -> hits[part]++, 3);
        assertArrayEquals(new int[] {100, 100, 100}, hits);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((part, parts) -> {
            if (part == 2) throw new IllegalStateException("part 2 failed");
        }, 3));
        assertEquals("part 2 failed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> mlp(0));
    }

    @Test
    // a caller that waited for the held workers would never return (a thread of its own: a spinning caller ignores interrupts)
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aPartItsWorkerHasNotStartedRunsOnTheCallerExactlyOnce() throws Exception {
        WorkerPool pool = WorkerPool.common();
        pool.ensureThreads(3);
        String caller = Thread.currentThread().getName();
        int[] hits = new int[3];
        String[] who = new String[3];
        long before = pool.partsRunByCaller();
        pool.holdWorkers(true);
        try {
            // the workers are held, as if the OS had descheduled them: the caller runs their parts and returns
            for (int i = 0; i < 50; i++) {
                pool.run((part, parts) -> {
                    hits[part]++;
                    who[part] = Thread.currentThread().getName();
                }, 3);
            }
            assertArrayEquals(new int[] {50, 50, 50}, hits);
            assertArrayEquals(new String[] {caller, caller, caller}, who);
            assertEquals(100, pool.partsRunByCaller() - before);
            // a part that fails on the caller is rethrown as a worker's is
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((part, parts) -> {
                if (part == 2) throw new IllegalStateException("part 2 failed on the caller");
            }, 3));
            assertEquals("part 2 failed on the caller", e.getMessage());
        } finally {
            pool.holdWorkers(false);
        }
        // released, the workers skip the parts the caller ran and take their own again: with the caller's part taking 50 ms,
        // each worker claims its part first in at least one of three dispatches
        boolean[] byWorker = new boolean[3];
        for (int i = 0; i < 3; i++) {
            pool.run((part, parts) -> {
                if (part == 0) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException x) {
                        throw new IllegalStateException(x);
                    }
                }
                hits[part]++;
                who[part] = Thread.currentThread().getName();
            }, 3);
            for (int p = 1; p < 3; p++) byWorker[p] |= who[p].equals("vgrad-worker-" + p);
        }
        // every part ran exactly once per dispatch: none of the parts the caller ran was run again by its worker
        assertArrayEquals(new int[] {53, 53, 53}, hits);
        assertTrue(byWorker[1] && byWorker[2], "the workers took their parts again: " + java.util.Arrays.toString(byWorker));
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void trainingWithTheWorkersHeldGivesTheBitsOfOneThread() {
        // the caller runs the workers' parts (static GEMM parts, chunks, side-by-side lanes), each with that
        // part's workspace, one after another: the same bits as one thread
        SplittableRandom r = new SplittableRandom(15);
        float[] x = uniform(r, 128 * 96);
        int[] y = classes(r, 128);
        float[] reference = null;
        WorkerPool pool = WorkerPool.common();
        for (int threads : new int[] {1, 2, 4}) {
            Trainer t = laneMlp(new Optimizer.Adam(0.01f), threads);
            long before = pool.partsRunByCaller();
            for (int step = 0; step < 6; step++) {
                pool.holdWorkers(threads > 1 && step % 2 == 0);
                try {
                    t.step(x, y, step == 5 ? 100 : 128);
                } finally {
                    pool.holdWorkers(false);
                }
            }
            if (threads > 1) assertTrue(pool.partsRunByCaller() > before, "the caller ran workers' parts on " + threads + " threads");
            if (reference == null) reference = t.params().clone();
            else assertArrayEquals(reference, t.params(), "parameters on " + threads + " threads, workers held every other step");
        }
    }

    @Test
    void describeSaysHowEachGemmStepRunsOnTheThreads() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.VECTORIZED, "the scalar twins do not split");
        org.junit.jupiter.api.Assumptions.assumeTrue(Gemm.chunks(Gemm.NN, 128, 256, 784, false, 2) > 2, "blocks too small here");
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node h = b.relu(b.dense("fc1", b.input("x", 128, 784), 256));
        h = b.relu(b.dense("fc2", h, 256));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 1);
        t.setThreads(1);
        String one = t.describe();
        assertTrue(one.startsWith(t.plan().describe()), one);
        assertTrue(one.contains("on 1 thread (the caller and 0 pool workers):"), one);
        // the eight GEMM steps, each on one thread; the update in one part
        assertEquals(8, one.split("one thread", -1).length - 1, one);
        assertTrue(one.contains("its update in 1 part"), one);
        t.setThreads(2);
        String two = t.describe();
        assertTrue(two.contains("on 2 threads (the caller and 1 pool worker):"), two);
        // fc1's and fc2's forwards: 8 column blocks (256 wide), chunks, bias + ReLU after the parts; fc1's dW: 8 of its row
        // blocks; the output layer's forward: two row parts; the two backward runs side by side, a product per lane
        assertEquals(2, two.split("8 chunks by columns, epilogue apart by rows", -1).length - 1, two);
        assertTrue(two.matches("(?s).*\\n +2 out +2 parts by rows\\n.*"), two);
        assertTrue(two.contains("steps 4-6 side by side: lane 0 on 1 thread, lane 1 on 1"), two);
        assertTrue(two.contains("steps 7-9 side by side: lane 0 on 1 thread, lane 1 on 1"), two);
        assertTrue(two.matches("(?s).*\\n +7 dfc2.W +lane 1: one thread\\n.*"), two);
        assertTrue(two.matches("(?s).*\\n +10 dfc1.W +8 chunks by rows\\n.*"), two);
        assertTrue(two.contains("its update in 2 parts"), two);
    }

    @Test
    void describeRecordsTheGemmSpeciesAndSimdStatus() {
        String d = mlp(1).plan().describe();
        assertTrue(d.contains("gemm: ") && d.matches("(?s).*-bit, [468]x\\d+ register block.*"), d);
        // 8 lanes (the build's AVX2 leg, -XX:UseAVX=2) run the 4-row block, 16 lanes the 8-row one
        if (Simd.LANES == 8) assertTrue(d.contains("gemm: 256-bit, 4x16 register block"), d);
        if (Simd.LANES == 16) assertTrue(d.contains("gemm: 512-bit, 8x32 register block"), d);
        assertTrue(Gemm.worthSplitting(128, 256, 784, 2));
        assertTrue(Simd.status().startsWith("SIMD: "));
    }
}
