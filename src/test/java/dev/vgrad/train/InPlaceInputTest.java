package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** step, loss, gradients and forward read the batch from the caller's array, never write it, and never read past its rows. */
class InPlaceInputTest {
    static Trainer trainer(int batch, int features) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, features);
        Node h = b.relu(b.dense("fc1", x, 9));
        // a narrow first layer (9 outputs): its dW reads x by outer products, whose masked tails reach the end of x
        b.softmaxCrossEntropy(b.dense("out", b.add(h, b.relu(b.dense("fc2", h, 9))), 7));
        return new Trainer(b.build(), new Optimizer.Sgd(0.05f), 3);
    }

    @Test
    void aPartialBatchInAnExactSizeArrayGivesTheBitsOfTheSameRowsInAFullArray() {
        SplittableRandom r = new SplittableRandom(1);
        int batch = 16, features = 13, rows = 5;
        float[] exact = new float[rows * features];
        for (int i = 0; i < exact.length; i++) exact[i] = (float) (r.nextDouble() * 2 - 1);
        float[] padded = Arrays.copyOf(exact, batch * features);
        for (int i = exact.length; i < padded.length; i++) padded[i] = 1e6f; // rows past the batch: never read
        int[] labels = {1, 0, 6, 3, 2};
        float[] before = exact.clone();
        Trainer a = trainer(batch, features), b = trainer(batch, features);
        for (int s = 0; s < 3; s++) {
            double la = a.step(exact, labels, rows), lb = b.step(padded, labels, rows);
            assertEquals(Double.doubleToRawLongBits(lb), Double.doubleToRawLongBits(la), "step " + s);
        }
        assertArrayEquals(b.param("fc1.W"), a.param("fc1.W"));
        assertArrayEquals(b.param("out.W"), a.param("out.W"));
        assertArrayEquals(before, exact); // read only
        float[] outA = new float[batch * 7], outB = new float[batch * 7];
        a.forward(exact, rows, outA);
        b.forward(padded, rows, outB);
        assertArrayEquals(outB, outA);
    }

    @Test
    void anInputNoStepReadsIsCopiedForForwardToReadBack() {
        // the output is the first input, the loss uses only a second one: nothing binds x, and forward gives x back
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", 4, 3);
        Node x2 = b.input("x2", 4, 5);
        b.softmaxCrossEntropy(b.dense("out", x2, 2));
        b.output(x);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 1);
        t.feed("x2", new float[20], 4);
        float[] in = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out = new float[12];
        t.forward(in, out);
        assertArrayEquals(in, out);
        assertEquals(Math.log(2), t.step(in, new int[4], 4), 1e-6); // x2 is zero: the logits are the zero biases
    }

    @Test
    void eachCallReadsTheArrayItIsGiven() {
        // two batches in turn through one trainer: each step's loss is the loss of its own batch
        SplittableRandom r = new SplittableRandom(2);
        int batch = 8, features = 5;
        float[] x1 = new float[batch * features], x2 = new float[batch * features];
        for (int i = 0; i < x1.length; i++) { x1[i] = (float) r.nextDouble(); x2[i] = (float) -r.nextDouble(); }
        int[] labels = new int[batch];
        Trainer t = trainer(batch, features), ref = trainer(batch, features);
        double l1 = t.loss(x1, labels, batch), l2 = t.loss(x2, labels, batch);
        assertEquals(ref.loss(x1, labels, batch), l1, 0.0);
        assertEquals(ref.loss(x2.clone(), labels, batch), l2, 0.0);
        assertEquals(l1, t.loss(x1, labels, batch), 0.0);
    }
}
