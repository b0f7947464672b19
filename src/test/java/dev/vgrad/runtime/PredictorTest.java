package dev.vgrad.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.Gemv;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PredictorTest {
    static final int BATCH = 32;
    static Dataset digits;
    static Trainer trainer;
    /** Trainer.forward of every digits row: the reference. */
    static float[] reference;

    /** 64 -> 96 (relu) -> 10 on the digits: 96 outputs are one wide panel and two narrow ones. */
    static Graph mlp(int batch) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, 64);
        Node h = b.relu(b.dense("fc1", x, 96));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        return b.build();
    }

    @BeforeAll
    static void train() {
        digits = Digits.load();
        trainer = new Trainer(mlp(BATCH), new Optimizer.Adam(1e-2f), 7);
        float[] xb = new float[BATCH * 64];
        int[] yb = new int[BATCH];
        for (int s = 0; s < 30; s++) {
            int from = (s * BATCH) % (digits.rows() - BATCH);
            System.arraycopy(digits.x(), from * 64, xb, 0, BATCH * 64);
            System.arraycopy(digits.y(), from, yb, 0, BATCH);
            trainer.step(xb, yb);
        }
        reference = new float[digits.rows() * 10];
        float[] out = new float[BATCH * 10];
        for (int r = 0; r < digits.rows(); r += BATCH) {
            int n = Math.min(BATCH, digits.rows() - r);
            trainer.forward(Arrays.copyOfRange(digits.x(), r * 64, (r + n) * 64), n, out);
            System.arraycopy(out, 0, reference, r * 10, n * 10);
        }
    }

    @Test
    void predictionsAreBitwiseTheTrainersForwardPass() {
        Predictor p = trainer.predictor();
        float[] y = new float[10];
        for (int r = 0; r < digits.rows(); r++) {
            p.predict(digits.x(), r * 64, y, 0);
            assertArrayEquals(Arrays.copyOfRange(reference, r * 10, r * 10 + 10), y, "row " + r);
        }
        // batches of every size around the kernels' 4-row blocks and the compiled batch (chunks beyond it)
        for (int rows : new int[] {2, 3, 4, 5, 31, 32, 33, 100, digits.rows()}) {
            float[] ys = new float[rows * 10 + 3];
            p.predict(digits.x(), 64, rows - 1, ys, 3);
            assertArrayEquals(Arrays.copyOfRange(reference, 10, rows * 10), Arrays.copyOfRange(ys, 3, 3 + (rows - 1) * 10), "rows " + rows);
        }
    }

    @Test
    void inputsWiderThanTheGemmsKBlockStillMatchTrainingBitwise() {
        // the training GEMM at batch 48 blocks K; the predictor's GEMV does not: both must be one fma chain per output
        int features = 2085, batch = 48; // more than twice the largest K block GemmBlocking allows (1024)
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, features);
        Node h = b.relu(b.dense("fc1", x, 40));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 5);
        java.util.SplittableRandom r = new java.util.SplittableRandom(9);
        float[] xs = new float[batch * features];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextDouble();
        float[] want = new float[batch * 10], got = new float[batch * 10];
        t.forward(xs, batch, want);
        Predictor p = t.predictor();
        p.predict(xs, batch, got);
        assertArrayEquals(want, got, "batch");
        float[] one = new float[10];
        for (int row = 0; row < batch; row++) {
            p.predict(xs, row * features, one, 0);
            assertArrayEquals(Arrays.copyOfRange(want, row * 10, row * 10 + 10), one, "row " + row);
        }
    }

    @Test
    void predictorsFromTheGraphFromAPlanAndByNameAgree() {
        Graph g = trainer.plan().graph();
        float[] flat = new float[trainer.plan().paramsSize()];
        Predictor byPlan = Predictor.of(trainer.plan(), trainer.params());
        Predictor byGraph = Predictor.of(g, trainer.params().clone());
        Predictor byName = Predictor.of(g, Map.of("fc1.W", trainer.param("fc1.W"), "fc1.b", trainer.param("fc1.b"),
                "out.W", trainer.param("out.W"), "out.b", trainer.param("out.b")));
        float[] a = new float[10], b = new float[10], c = new float[10];
        for (int r = 0; r < 50; r++) {
            byPlan.predict(digits.x(), r * 64, a, 0);
            byGraph.predict(digits.x(), r * 64, b, 0);
            byName.predict(digits.x(), r * 64, c, 0);
            assertArrayEquals(a, b);
            assertArrayEquals(a, c);
        }
        assertEquals(64, byPlan.inputs());
        assertEquals(10, byPlan.outputs());
        assertThrows(IllegalArgumentException.class, () -> Predictor.of(g, flat.length == 0 ? new float[1] : new float[flat.length - 1]));
        var missing = assertThrows(IllegalArgumentException.class, () -> Predictor.of(g, Map.of("fc1.W", trainer.param("fc1.W"))));
        assertTrue(missing.getMessage().contains("fc1.b") || missing.getMessage().contains("out."), missing.getMessage());
    }

    @Test
    void skippingZeroInputsChangesNoBit() {
        // digits images are about half zeros, and so are the ReLU layer's outputs
        for (boolean bf16 : new boolean[] {false, true}) {
            Predictor.Options o = Predictor.Options.defaults().withBf16Weights(bf16);
            Predictor skip = trainer.predictor(o), dense = trainer.predictor(o.withSkipZeros(false));
            float[] a = new float[10], b = new float[10];
            for (int r = 0; r < digits.rows(); r++) {
                skip.predict(digits.x(), r * 64, a, 0);
                dense.predict(digits.x(), r * 64, b, 0);
                assertArrayEquals(b, a, (bf16 ? "bf16 " : "") + "row " + r);
            }
        }
    }

    @Test
    void theWeightsAreACopyTrainingLaterDoesNotChangeThem() {
        Trainer t = new Trainer(mlp(4), new Optimizer.Sgd(0.1f), 3);
        Predictor p = t.predictor();
        float[] x = Arrays.copyOf(digits.x(), 4 * 64);
        float[] before = new float[40], after = new float[40];
        p.predict(x, 4, before);
        t.step(x, new int[] {0, 1, 2, 3});
        Arrays.fill(t.params(), 0f);
        p.predict(x, 4, after);
        assertArrayEquals(before, after);
    }

    @Test
    void graphsWithOtherOpsRunThroughTheExecutorAndStillMatchBitwise() {
        // tanh and gelu dense layers, a residual add, a product, softmax as the output
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 17);
        Node h1 = b.tanh(b.dense("d1", x, 33));
        Node h2 = b.gelu(b.dense("d2", h1, 33));
        Node s = b.add(h1, h2);
        Node m = b.mul(s, h1);
        Node out = b.softmax(b.dense("d3", m, 5));
        b.mse(out);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.05f), 11);
        SplittableRandom r = new SplittableRandom(5);
        float[] xs = new float[8 * 17];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
        float[] want = new float[8 * 5], got = new float[8 * 5];
        t.forward(xs, 8, want);
        Predictor p = t.predictor();
        p.predict(xs, 8, got);
        assertArrayEquals(want, got);
        for (int row = 0; row < 8; row++) {
            float[] one = new float[5];
            p.predict(xs, row * 17, one, 0);
            assertArrayEquals(Arrays.copyOfRange(want, row * 5, row * 5 + 5), one, "row " + row);
        }
    }

    @Test
    void badRequestsFailBeforeAnyWorkWithClearMessages() {
        Predictor p = trainer.predictor(Predictor.Options.defaults().withCheckFinite(true));
        float[] x = Arrays.copyOf(digits.x(), 64), y = new float[10];
        String m;
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[63], y)).getMessage();
        assertTrue(m.contains("needs 1 x 64 = 64 floats") && m.contains("has 63"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(x, new float[9])).getMessage();
        assertTrue(m.contains("output") && m.contains("has 9"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(null, y)).getMessage();
        assertTrue(m.contains("null"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(x, null)).getMessage();
        assertTrue(m.contains("null"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(x, -1, y, 0)).getMessage();
        assertTrue(m.contains("offset -1"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(x, 0, 0, y, 0)).getMessage();
        assertTrue(m.contains("rows must be >= 1"), m);
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[100], 0, 2, new float[200], 0)).getMessage();
        assertTrue(m.contains("needs 2 x 64 = 128"), m);
        float[] shared = new float[128];
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(shared, 0, 1, shared, 60)).getMessage();
        assertTrue(m.contains("overlaps"), m);
        float[] nan = x.clone();
        nan[37] = Float.NaN;
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(nan, y)).getMessage();
        assertTrue(m.contains("non-finite value NaN at row 0, column 37"), m);
        float[] two = Arrays.copyOf(digits.x(), 128);
        two[64 + 5] = Float.POSITIVE_INFINITY;
        m = assertThrows(IllegalArgumentException.class, () -> p.predict(two, 2, new float[20])).getMessage();
        assertTrue(m.contains("Infinity at row 1, column 5"), m);
        // the output array is untouched by a rejected call
        float[] out = new float[20];
        Arrays.fill(out, 3f);
        assertThrows(IllegalArgumentException.class, () -> p.predict(two, 2, out));
        for (float v : out) assertEquals(3f, v);
        // without the finite check, NaN passes through (documented), and a good call still agrees
        p.predict(x, y);
        assertArrayEquals(Arrays.copyOf(reference, 10), y);
    }

    @Test
    void memorySegmentsOnAndOffHeapGiveTheSameOutputs() {
        Predictor p = trainer.predictor();
        int rows = 40;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(4L * rows * 64 + 8);
            MemorySegment.copy(digits.x(), 0, in, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 8, rows * 64);
            MemorySegment out = arena.allocate(4L * rows * 10);
            p.predict(in, 8, rows, out, 0);
            float[] got = out.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            assertArrayEquals(Arrays.copyOf(reference, rows * 10), got);
            var e = assertThrows(IllegalArgumentException.class, () -> p.predict(in, 16, rows, out, 0));
            assertTrue(e.getMessage().contains("segment has"), e.getMessage());
            // a NaN in the last chunk is found before the first chunk's outputs are written
            Predictor checked = trainer.predictor(Predictor.Options.defaults().withCheckFinite(true));
            in.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 8 + 4L * (38 * 64 + 2), Float.NaN);
            out.fill((byte) 0);
            e = assertThrows(IllegalArgumentException.class, () -> checked.predict(in, 8, rows, out, 0));
            assertTrue(e.getMessage().contains("NaN at row 38, column 2"), e.getMessage());
            for (float v : out.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)) assertEquals(0f, v);
        }
        MemorySegment closedIn;
        try (Arena arena = Arena.ofConfined()) {
            closedIn = arena.allocate(4L * 64);
        }
        MemorySegment closed = closedIn;
        var e = assertThrows(IllegalArgumentException.class, () -> p.predict(closed, 0, 1, MemorySegment.ofArray(new float[10]), 0));
        assertTrue(e.getMessage().contains("arena is closed"), e.getMessage());
        float[] heapOut = new float[10];
        p.predict(MemorySegment.ofArray(Arrays.copyOf(digits.x(), 64)), 0, 1, MemorySegment.ofArray(heapOut), 0);
        assertArrayEquals(Arrays.copyOf(reference, 10), heapOut);
    }

    /** A byte offset near Long.MAX_VALUE must not wrap past the bounds check (it did: IndexOutOfBoundsException from the copy). */
    @Test
    void segmentOffsetsNearLongMaxAreRejectedByTheCheck() {
        Predictor p = trainer.predictor();
        MemorySegment in = MemorySegment.ofArray(Arrays.copyOf(digits.x(), 64)), out = MemorySegment.ofArray(new float[10]);
        var e = assertThrows(IllegalArgumentException.class, () -> p.predict(in, Long.MAX_VALUE - 8, 1, out, 0));
        assertTrue(e.getMessage().contains("input needs 64 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.predict(in, 0, 1, out, Long.MAX_VALUE - 8));
        assertTrue(e.getMessage().contains("output needs 10 floats"), e.getMessage());
    }

    /**
     * Input and output ranges of one segment that overlap are rejected, as for arrays: over several chunks the
     * first chunk's outputs would overwrite rows a later chunk still reads (40 rows, batch 32: rows 32..39).
     */
    @Test
    void overlappingSegmentRangesAreRejected() {
        Predictor p = trainer.predictor();
        int rows = 40;
        float[] both = new float[rows * 64 + rows * 10];
        System.arraycopy(digits.x(), 0, both, 0, rows * 64);
        MemorySegment seg = MemorySegment.ofArray(both);
        long outAt = 4L * 32 * 64; // the outputs start where input row 32 is
        var e = assertThrows(IllegalArgumentException.class, () -> p.predict(seg, 0, rows, seg, outAt));
        assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        float[] untouched = Arrays.copyOf(digits.x(), rows * 64);
        assertArrayEquals(untouched, Arrays.copyOf(both, rows * 64));
        // two slices of one off-heap segment
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(4L * both.length);
            MemorySegment.copy(both, 0, big, java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, rows * 64);
            MemorySegment a = big.asSlice(0, 4L * rows * 64), b = big.asSlice(outAt);
            e = assertThrows(IllegalArgumentException.class, () -> p.predict(a, 0, rows, b, 0));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
            // disjoint ranges of one segment are fine and give the reference
            p.predict(big, 0, rows, big, 4L * rows * 64);
            float[] got = big.asSlice(4L * rows * 64).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            assertArrayEquals(Arrays.copyOf(reference, rows * 10), got);
        }
    }

    @Test
    void predictClassIsTheArgmax() {
        Predictor p = trainer.predictor();
        for (int r = 0; r < 100; r++) {
            int best = 0;
            for (int j = 1; j < 10; j++) if (reference[r * 10 + j] > reference[r * 10 + best]) best = j;
            assertEquals(best, p.predictClass(digits.x(), r * 64), "row " + r);
        }
    }

    @Test
    void concurrentCallersOnOneSharedPredictorGetBitwiseTheSingleThreadedResults() throws Exception {
        Predictor p = trainer.predictor(Predictor.Options.defaults().withCheckFinite(true));
        hammer(p, 2, 0, 600);
        hammer(p, 16, 4, 1200);
        // nothing the bad requests did changed the shared weights
        float[] y = new float[10];
        for (int r = 0; r < digits.rows(); r += 7) {
            p.predict(digits.x(), r * 64, y, 0);
            assertArrayEquals(Arrays.copyOfRange(reference, r * 10, r * 10 + 10), y);
        }
    }

    /** {@code good} threads predicting random rows and batches, {@code bad} ones sending bad requests, for {@code millis}. */
    void hammer(Predictor p, int good, int bad, long millis) throws Exception {
        AtomicLong checked = new AtomicLong(), rejected = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        long end = System.nanoTime() + millis * 1_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < good + bad; t++) {
            boolean isBad = t >= good;
            long seed = t;
            threads.add(new Thread(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                float[] x = digits.x();
                float[] y = new float[40 * 10 + 5];
                try {
                    start.await();
                    while (System.nanoTime() < end) {
                        if (isBad) {
                            float[] poisoned = Arrays.copyOf(x, 3 * 64);
                            poisoned[r.nextInt(poisoned.length)] = Float.NaN;
                            int kind = r.nextInt(4);
                            try {
                                switch (kind) {
                                    case 0 -> p.predict(poisoned, 3, y);
                                    case 1 -> p.predict(x, 0, 1, new float[3], 0);
                                    case 2 -> p.predict(x, x.length - 10, y, 0);
                                    default -> p.predict(poisoned, 0, 3, y, -1);
                                }
                                throw new AssertionError("a bad request of kind " + kind + " was accepted");
                            } catch (IllegalArgumentException expected) {
                                rejected.incrementAndGet();
                            }
                            continue;
                        }
                        int rows = r.nextInt(3) == 0 ? 1 + r.nextInt(40) : 1;
                        int row = r.nextInt(digits.rows() - rows);
                        int off = r.nextInt(5);
                        p.predict(x, row * 64, rows, y, off);
                        for (int i = 0; i < rows * 10; i++) {
                            if (Float.floatToRawIntBits(y[off + i]) != Float.floatToRawIntBits(reference[row * 10 + i])) {
                                throw new AssertionError("row " + (row + i / 10) + " output " + (i % 10) + ": " + y[off + i]
                                        + " != single-threaded " + reference[row * 10 + i]);
                            }
                        }
                        checked.addAndGet(rows);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.forEach(Thread::start);
        start.countDown();
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertTrue(checked.get() > good, "each good thread checked rows: " + checked.get());
        if (bad > 0) assertTrue(rejected.get() > bad, "bad requests were sent and rejected: " + rejected.get());
    }

    @Test
    void splittingOneRowOverTwoCoresChangesNoBit() throws Exception {
        try (Predictor p = trainer.predictor(Predictor.Options.defaults().withSplitCores(true))) {
            float[] y = new float[10];
            for (int r = 0; r < digits.rows(); r += 3) {
                p.predict(digits.x(), r * 64, y, 0);
                assertArrayEquals(Arrays.copyOfRange(reference, r * 10, r * 10 + 10), y, "row " + r);
            }
            hammer(p, 4, 0, 300); // one caller at a time gets the helper, the others run unsplit
            assertTrue(p.splitCalls() > 0, "some calls were split");
        }
    }

    @Test
    void aCallThatFindsTheSplitHelperParkedRunsUnsplitAndWakesItForTheCallsThatFollow() throws Exception {
        try (Predictor p = trainer.predictor(Predictor.Options.defaults().withSplitCores(true))) {
            float[] y = new float[10];
            // idle for 20 ms, ten times the helper's spin: it has parked, and a call that came now would wait for it to wake
            Thread.sleep(20);
            long before = p.splitCalls();
            p.predict(digits.x(), 0, y, 0);
            assertEquals(before, p.splitCalls(), "the first call after a pause runs unsplit");
            assertArrayEquals(Arrays.copyOfRange(reference, 0, 10), y);
            // calls back to back wake it, and then take it (within a second at most, however slowly the host wakes it)
            long until = System.nanoTime() + 1_000_000_000L;
            int r = 0;
            while (p.splitCalls() == before && System.nanoTime() < until) {
                r = (r + 7) % digits.rows();
                p.predict(digits.x(), r * 64, y, 0);
                assertArrayEquals(Arrays.copyOfRange(reference, r * 10, r * 10 + 10), y, "row " + r);
            }
            assertTrue(p.splitCalls() > before, "calls back to back split again");
        }
    }

    @Test
    void steadyStateCallsAllocateNothing() {
        steadyStateAllocatesNothing(trainer.predictor(Predictor.Options.defaults().withCheckFinite(true)));
    }

    @Test
    void steadyStateBf16CallsAllocateNothing() {
        steadyStateAllocatesNothing(trainer.predictor(Predictor.Options.defaults().withBf16Weights(true)));
    }

    void steadyStateAllocatesNothing(Predictor p) {
        Predictor.Warmup w = p.warmup();
        assertTrue(w.calls() >= 20_000, w.toString());
        float[] x = digits.x();
        float[] y = new float[70 * 10];
        MemorySegment xs = MemorySegment.ofArray(Arrays.copyOf(x, 70 * 64)), ys = MemorySegment.ofArray(y);
        // the JIT may still be compiling a variant: the claim is that, once compiled, a round of calls of
        // each kind allocates 0 bytes (beyond what reading the counter itself costs, measured around no calls)
        String[] kinds = {"one row", "5 rows at offsets", "predictClass", "70 rows (3 chunks)", "memory segments"};
        for (int kind = 0; kind < kinds.length; kind++) {
            long bytes = -1;
            // (a round takes milliseconds; 400 leave C2 a few seconds, which a busy 2-core host has needed)
            for (int round = 0; round < 400 && bytes != 0; round++) {
                long b0 = allocatedBytes();
                long b1 = allocatedBytes();
                for (int i = 0; i < 500; i++) {
                    switch (kind) {
                        case 0 -> p.predict(x, (i % 100) * 64, y, 0);
                        case 1 -> p.predict(x, 64, 5, y, 3);
                        case 2 -> p.predictClass(x, 128);
                        case 3 -> p.predict(x, 0, 70, y, 0);
                        default -> p.predict(xs, 0, 2, ys, 0);
                    }
                }
                long b2 = allocatedBytes();
                bytes = (b2 - b1) - (b1 - b0);
            }
            assertEquals(0, bytes, "bytes allocated by 500 calls (" + kinds[kind] + ") once compiled");
        }
    }

    @Test
    void bf16WeightsStayCloseToFloat32() {
        Predictor f32 = trainer.predictor();
        Predictor b16 = trainer.predictor(Predictor.Options.defaults().withBf16Weights(true));
        // float32: the 64 x 96 layer packed; the 10-wide output layer too where it is not narrow for Gemm (4
        // lanes), else it runs the training kernels on a transposed copy of its weights (96 x 10) and the plan's
        // bias. bf16: 64 x 96 and 96 x 10 (10 padded to whole vectors: 16 at 8 or 16 lanes) weights in half the
        // bytes, float32 biases
        int out = Gemv.roundUp(10);
        long f32Out = Gemm.narrowDotProducts(10) ? 4L * 96 * 10 : Gemm.narrow(10) ? 0 : 4L * (96 * out + out);
        assertEquals(4L * (64 * 96 + 96) + f32Out, f32.weightBytes());
        assertEquals(2L * (64 * 96 + 96 * out) + 4L * (96 + out), b16.weightBytes());
        float[] a = new float[10], b = new float[10];
        int agree = 0;
        double maxErr = 0;
        for (int r = 0; r < digits.rows(); r++) {
            f32.predict(digits.x(), r * 64, a, 0);
            b16.predict(digits.x(), r * 64, b, 0);
            for (int j = 0; j < 10; j++) maxErr = Math.max(maxErr, Math.abs(a[j] - b[j]) / (1 + Math.abs(a[j])));
            if (argmax(a) == argmax(b)) agree++;
        }
        assertTrue(maxErr < 0.05, "relative logit error " + maxErr);
        assertTrue(agree >= digits.rows() * 0.99, "bf16 and float32 agree on " + agree + " of " + digits.rows());
    }

    /** Bytes this thread has allocated so far (com.sun.management.ThreadMXBean). */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
        return best;
    }
}
