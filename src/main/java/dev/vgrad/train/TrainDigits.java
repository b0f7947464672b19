package dev.vgrad.train;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;

/**
 * The engine's own demo: a 64-128-64-10 ReLU MLP trained with Adam on the embedded digits, printing
 * loss and accuracy per epoch. (The {@code vgrad} command-line tool is the full-featured trainer.)
 */
public final class TrainDigits {
    private TrainDigits() {}

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 42;
        int batch = 32;
        Dataset.Split split = Digits.load().split(0.1, 0.2, seed);
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, Digits.FEATURES);
        Node h = b.relu(b.dense("fc1", x, 128));
        h = b.relu(b.dense("fc2", h, 64));
        b.softmaxCrossEntropy(b.dense("out", h, Digits.CLASSES));
        Trainer t = new Trainer(b.build(), new Optimizer.Adam(0.003f), seed);
        System.out.print(t.plan().describe());
        System.out.printf("digits: %d train, %d validation, %d test samples%n", split.train().rows(), split.validation().rows(), split.test().rows());
        Evaluation eval = new Evaluation(t);
        long start = System.nanoTime();
        for (int epoch = 1; epoch <= epochs; epoch++) {
            Dataset train = split.train().shuffled(seed + epoch);
            double lossSum = 0;
            float[] xb = new float[batch * train.features()];
            int[] yb = new int[batch];
            for (int from = 0; from < train.rows(); from += batch) {
                int rows = Math.min(batch, train.rows() - from);
                System.arraycopy(train.x(), from * train.features(), xb, 0, rows * train.features());
                System.arraycopy(train.y(), from, yb, 0, rows);
                lossSum += t.step(xb, yb, rows) * rows;
            }
            Evaluation.Result val = eval.run(split.validation());
            System.out.printf("epoch %2d  train loss %.4f  val loss %.4f  val acc %.2f%%%n", epoch, lossSum / train.rows(), val.loss(),
                    100 * val.accuracy());
        }
        Evaluation.Result test = eval.run(split.test());
        System.out.printf("test loss %.4f  test accuracy %.2f%%  (%.2f s)%n", test.loss(), 100 * test.accuracy(), (System.nanoTime() - start) / 1e9);
    }
}
