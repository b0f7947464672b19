package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.fail;

import com.sun.management.ThreadMXBean;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * After compile, step and forward allocate nothing. The Vector API boxes vectors until C2 has
 * compiled a kernel, so the check warms up first and then requires a whole window of steps with zero
 * bytes allocated on this thread and on the engine's worker threads.
 */
class NoAllocationTest {
    @Test
    void stepAndForwardAllocateNothingOnceCompiled() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 17);
        Node h = b.relu(b.dense("fc1", x, 33));
        h = b.add(h, b.tanh(b.dense("fc2", h, 33)));
        b.softmaxCrossEntropy(b.dense("out", b.gelu(h), 5));
        assertNoAllocation(new Trainer(b.build(), new Optimizer.Adam(1e-3f), 5), 8, 17, 5);
    }

    @Test
    void expKernelsAllocateNothingOnceCompiled() {
        // sigmoid and a softmax over 20 classes: Exp's polynomial in the activation and in the loss
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 24);
        Node h = b.sigmoid(b.dense("fc1", x, 40));
        b.softmaxCrossEntropy(b.dense("out", h, 20));
        assertNoAllocation(new Trainer(b.build(), new Optimizer.Sgd(1e-3f), 4), 8, 24, 20);
    }

    @Test
    void wideLayersAllocateNothingOnceCompiled() {
        // layers wider than the short paths: packed A of a transposed x (fc1 dW), 16 x 16 transposes of a
        // transposed W (fc2 dx), the short-k dx, outer products and dot products of the output layer
        Trainer t = mlp(32, 40, 48, 6);
        t.setThreads(1);
        assertNoAllocation(t, 32, 40, 10);
    }

    @Test
    void sideBySideLanesAllocateNothingOnTheCallerNorOnTheWorker() {
        // on 2 threads fc2's dW and db run on one core while its dx runs on the other (Plan.lane): neither allocates
        Trainer t = mlp(32, 64, 128, 7);
        t.setThreads(2);
        if (t.plan().runEnd(7) != 10) fail("fc2's backward should run side by side:\n" + t.plan().describe());
        assertNoAllocation(t, 32, 64, 10);
    }

    @Test
    void profiledStepsAllocateNothing() {
        // a profile under way (Trainer.startProfile) times every plan step, side-by-side runs included, into arrays
        // made when it starts
        Trainer t = mlp(32, 64, 128, 7);
        t.setThreads(2);
        t.startProfile();
        assertNoAllocation(t, 32, 64, 10);
        if (t.stopProfile().trainingSteps() == 0) fail("the steps should have been profiled");
    }

    @Test
    void anOutputLayerOneVectorWideAllocatesNothing() {
        // as many classes as lanes (16 here): the output layer's forward takes a vector of C per row (18 rows: two
        // 8-row blocks and 2 single rows; the partial batch of 11: a block and a 3-row block), its dW two 8-column
        // blocks of outer products with 16 lanes
        Trainer t = mlp(18, 40, 48, dev.vgrad.kernel.Simd.LANES, 8);
        t.setThreads(1);
        assertNoAllocation(t, 18, 40, dev.vgrad.kernel.Simd.LANES);
    }

    @Test
    void aSmallBatchAllocatesNothing() {
        // 9 rows (the GEMV-like path: a 6-row block, then 3 rows x 4 vectors over the first 64 of 70 columns), a partial
        // batch of 5 rows (one 6-row block with a repeated row)
        Trainer t = mlp(9, 40, 70, 9);
        t.setThreads(1);
        assertNoAllocation(t, 9, 40, 10);
    }

    private static Trainer mlp(int batch, int features, int hidden, long seed) { return mlp(batch, features, hidden, 10, seed); }

    // x (batch x features) -> relu(fc1) -> relu(fc2) -> classes, SGD
    private static Trainer mlp(int batch, int features, int hidden, int classes, long seed) {
        GraphBuilder b = Graph.builder();
        Node h = b.relu(b.dense("fc1", b.input("x", batch, features), hidden));
        h = b.relu(b.dense("fc2", h, hidden));
        b.softmaxCrossEntropy(b.dense("out", h, classes));
        return new Trainer(b.build(), new Optimizer.Sgd(1e-3f), seed);
    }

    private static void assertNoAllocation(Trainer t, int batch, int features, int classes) {
        SplittableRandom r = new SplittableRandom(1);
        float[] xs = new float[batch * features];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextDouble();
        int[] ys = new int[batch];
        for (int i = 0; i < batch; i++) ys[i] = i % classes;
        float[] out = new float[batch * classes];
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        // this thread and the engine's workers (a split GEMM or a side-by-side lane runs on them)
        long[] tids = java.util.stream.LongStream.concat(java.util.stream.LongStream.of(Thread.currentThread().threadId()),
                Thread.getAllStackTraces().keySet().stream().filter(th -> th.getName().startsWith("vgrad-worker"))
                        .mapToLong(Thread::threadId)).toArray();
        long last = -1;
        int partial = batch * 5 / 8;
        for (int round = 0; round < 40; round++) {
            for (int i = 0; i < 2000; i++) {
                t.step(xs, ys, batch);
                t.step(xs, ys, partial); // a partial batch
                t.forward(xs, batch, out);
            }
            long before = allocated(mx, tids);
            for (int i = 0; i < 500; i++) {
                t.step(xs, ys, batch);
                t.step(xs, ys, partial);
                t.forward(xs, batch, out);
            }
            last = allocated(mx, tids) - before;
            if (last == 0) return;
        }
        fail("steps still allocate after warm-up: " + last + " bytes over 500 iterations");
    }

    private static long allocated(ThreadMXBean mx, long[] tids) {
        long sum = 0;
        for (long id : tids) sum += mx.getThreadAllocatedBytes(id); // one id at a time: the array form allocates its result
        return sum;
    }
}
