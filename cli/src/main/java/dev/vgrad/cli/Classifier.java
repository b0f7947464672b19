package dev.vgrad.cli;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import dev.vgrad.io.Dataset;
import dev.vgrad.train.Evaluation;
import dev.vgrad.train.Trainer;

/**
 * A classifier around a {@link Trainer}: builds the MLP the settings describe, feeds class labels (or one-hot
 * targets for the mse and bce losses), evaluates loss, accuracy and the confusion matrix, and turns outputs
 * into probabilities. Buffers are allocated once per classifier.
 */
public final class Classifier {
    private final Trainer trainer;
    private final int features, classes;
    private final boolean labels;
    private final Op lossOp;
    private final float[] xb, tb, out;
    private final int[] yb;

    public Classifier(Trainer trainer) {
        this.trainer = trainer;
        Graph g = trainer.plan().graph();
        this.features = g.inputs().get(0).shape().cols();
        this.classes = g.output().shape().cols();
        this.lossOp = g.loss() == null ? null : g.loss().op();
        this.labels = lossOp == Op.SOFTMAX_CROSS_ENTROPY;
        int b = trainer.batch();
        this.xb = new float[b * features];
        this.tb = new float[b * classes];
        this.out = new float[b * classes];
        this.yb = new int[b];
    }

    /** A classifier for a saved model at the batch it was trained with (a vgrad classifier: one input, a loss). */
    public static Classifier of(java.nio.file.Path file, dev.vgrad.cli.model.ModelFile m) {
        Graph g = m.graph();
        if (g.inputs().size() != 1 || g.loss() == null || g.output().shape().cols() < 2) {
            throw new dev.vgrad.cli.model.ModelFileException(file, "not a classifier: eval and predict need one input, a loss and at least 2 outputs");
        }
        return new Classifier(m.trainer(g.inputs().get(0).shape().rows()));
    }

    /** features -> layers (each dense + activation) -> classes logits, with the loss the settings name. */
    public static Graph graph(Settings s, int features, int classes) {
        GraphBuilder b = Graph.builder().defaultInit(Init.parse(s.init()));
        Activation act = Activation.parse(s.activation());
        Node h = b.input("x", s.batch(), features);
        for (int i = 0; i < s.layers().length; i++) h = b.activation(act, b.dense("fc" + (i + 1), h, s.layers()[i]), s.alpha());
        Node logits = b.dense("out", h, classes);
        switch (s.loss()) {
            case "cross-entropy" -> b.softmaxCrossEntropy(logits);
            case "mse" -> b.mse(logits);
            default -> b.binaryCrossEntropyWithLogits(logits);
        }
        return b.build();
    }

    public Trainer trainer() { return trainer; }
    public int features() { return features; }
    public int classes() { return classes; }

    /** One training step on rows [from, from + rows) of d; returns the mean loss. */
    public double step(Dataset d, int from, int rows) {
        load(d, from, rows);
        return labels ? trainer.step(xb, yb, rows) : trainer.step(xb, tb, rows);
    }

    /** Loss, accuracy and confusion ({@code [true][predicted]}) over all rows of d. */
    public Evaluation.Result evaluate(Dataset d) {
        int[][] confusion = new int[classes][classes];
        double lossSum = 0;
        int correct = 0;
        for (int from = 0; from < d.rows(); from += trainer.batch()) {
            int rows = Math.min(trainer.batch(), d.rows() - from);
            load(d, from, rows);
            lossSum += (labels ? trainer.loss(xb, yb, rows) : trainer.loss(xb, tb, rows)) * rows;
            trainer.forward(xb, rows, out);
            for (int i = 0; i < rows; i++) {
                int p = Evaluation.argmax(out, i * classes, classes);
                confusion[yb[i]][p]++;
                if (p == yb[i]) correct++;
            }
        }
        return new Evaluation.Result(lossSum / d.rows(), (double) correct / d.rows(), confusion);
    }

    /** Class probabilities for rows [from, from + rows) of x into probs (rows x classes). */
    public void predict(float[] x, int from, int rows, float[] probs) {
        System.arraycopy(x, from * features, xb, 0, rows * features);
        trainer.forward(xb, rows, out);
        for (int i = 0; i < rows; i++) probabilities(out, i * classes, probs, i * classes);
    }

    /** Softmax for cross-entropy, sigmoid for bce, the raw outputs for mse. */
    private void probabilities(float[] z, int off, float[] p, int pOff) {
        if (lossOp == Op.SOFTMAX_CROSS_ENTROPY) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, z[off + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(z[off + j] - max);
            for (int j = 0; j < classes; j++) p[pOff + j] = (float) (Math.exp(z[off + j] - max) / sum);
        } else if (lossOp == Op.BCE_WITH_LOGITS) {
            for (int j = 0; j < classes; j++) p[pOff + j] = (float) (1 / (1 + Math.exp(-z[off + j])));
        } else {
            System.arraycopy(z, off, p, pOff, classes);
        }
    }

    private void load(Dataset d, int from, int rows) {
        System.arraycopy(d.x(), from * features, xb, 0, rows * features);
        System.arraycopy(d.y(), from, yb, 0, rows);
        if (!labels) {
            java.util.Arrays.fill(tb, 0, rows * classes, 0f);
            for (int i = 0; i < rows; i++) {
                if (yb[i] < 0 || yb[i] >= classes) throw new IllegalArgumentException("label " + yb[i] + " at row " + (from + i) + " is outside [0, " + classes + ")");
                tb[i * classes + yb[i]] = 1f;
            }
        }
    }
}
