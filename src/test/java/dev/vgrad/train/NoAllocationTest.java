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
 * bytes allocated on this thread.
 */
class NoAllocationTest {
    @Test
    void stepAndForwardAllocateNothingOnceCompiled() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 17);
        Node h = b.relu(b.dense("fc1", x, 33));
        h = b.add(h, b.tanh(b.dense("fc2", h, 33)));
        b.softmaxCrossEntropy(b.dense("out", b.gelu(h), 5));
        Trainer t = new Trainer(b.build(), new Optimizer.Adam(1e-3f), 5);
        SplittableRandom r = new SplittableRandom(1);
        float[] xs = new float[8 * 17];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextDouble();
        int[] ys = {0, 1, 2, 3, 4, 0, 1, 2};
        float[] out = new float[8 * 5];
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long last = -1;
        for (int round = 0; round < 40; round++) {
            for (int i = 0; i < 2000; i++) {
                t.step(xs, ys, 8);
                t.step(xs, ys, 5); // a partial batch
                t.forward(xs, 8, out);
            }
            long before = mx.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 500; i++) {
                t.step(xs, ys, 8);
                t.step(xs, ys, 5);
                t.forward(xs, 8, out);
            }
            last = mx.getThreadAllocatedBytes(tid) - before;
            if (last == 0) return;
        }
        fail("steps still allocate after warm-up: " + last + " bytes over 500 iterations");
    }
}
