package dev.vgrad.train;

import dev.vgrad.io.Dataset;

/** Mean loss and accuracy of a classifier over a dataset, in batches of the trainer's compiled size. */
public final class Evaluation {
    private final Trainer trainer;
    private final float[] xb;
    private final int[] yb;
    private final float[] out;

    public Evaluation(Trainer trainer) {
        this.trainer = trainer;
        int batch = trainer.batch();
        int features = trainer.plan().graph().inputs().get(0).shape().cols();
        this.xb = new float[batch * features];
        this.yb = new int[batch];
        this.out = new float[batch * trainer.plan().output().shape().cols()];
    }

    /** Loss and accuracy over all rows; {@code confusion[true][predicted]} counts. */
    public record Result(double loss, double accuracy, int[][] confusion) {}

    public Result run(Dataset d) {
        int batch = trainer.batch();
        int classes = trainer.plan().output().shape().cols();
        int[][] confusion = new int[classes][classes];
        double lossSum = 0;
        int correct = 0;
        for (int from = 0; from < d.rows(); from += batch) {
            int rows = Math.min(batch, d.rows() - from);
            System.arraycopy(d.x(), from * d.features(), xb, 0, rows * d.features());
            System.arraycopy(d.y(), from, yb, 0, rows);
            lossSum += trainer.loss(xb, yb, rows) * rows;
            trainer.forward(xb, rows, out);
            for (int i = 0; i < rows; i++) {
                int pred = argmax(out, i * classes, classes);
                confusion[yb[i]][pred]++;
                if (pred == yb[i]) correct++;
            }
        }
        return new Result(lossSum / d.rows(), (double) correct / d.rows(), confusion);
    }

    /** Index of the largest of n floats at off (the first on ties). */
    public static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (v[off + j] > v[off + best]) best = j;
        return best;
    }
}
