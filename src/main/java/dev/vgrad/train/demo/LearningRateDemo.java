package dev.vgrad.train.demo;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.train.DivergenceException;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One model — a 64-32-10 ReLU MLP on the embedded digits, plain SGD, batch 32 — trained at a too-small,
 * a good and a too-high learning rate. The too-small one barely moves, the good one falls fast, the
 * too-high one blows up and is stopped by the divergence guard.
 */
public final class LearningRateDemo {
    private LearningRateDemo() {}

    public static final int BATCH = 32;
    /** The three rates: too small, good, too high (for this model and data). */
    public static final float[] RATES = {0.002f, 0.2f, 16f};
    public static final String[] NAMES = {"too small", "good", "too high"};

    /** One rate's run: the loss of every step until it ended (diverged = the step it was stopped at, or -1). */
    public record Curve(String name, float learningRate, double[] losses, long diverged, String message) {
        /** Mean loss of the last (up to) 20 steps, or NaN when diverged. */
        public double finalLoss() {
            if (diverged >= 0 || losses.length == 0) return Double.NaN;
            int n = Math.min(20, losses.length);
            double s = 0;
            for (int i = losses.length - n; i < losses.length; i++) s += losses[i];
            return s / n;
        }
    }

    static Graph graph() {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", BATCH, Digits.FEATURES);
        Node h = b.relu(b.dense("fc1", x, 32));
        b.softmaxCrossEntropy(b.dense("out", h, Digits.CLASSES));
        return b.build();
    }

    /** Trains at {@code lr} for {@code epochs} epochs over the digits' training split. */
    public static Curve run(String name, float lr, int epochs, long seed) {
        Dataset train = Digits.load().split(0.1, 0.2, seed).train();
        Trainer t = new Trainer(graph(), new Optimizer.Sgd(lr), seed);
        t.telemetry().setWarnings(m -> { });
        int perEpoch = (train.rows() + BATCH - 1) / BATCH;
        double[] losses = new double[epochs * perEpoch];
        float[] xb = new float[BATCH * train.features()];
        int[] yb = new int[BATCH];
        int n = 0;
        try {
            for (int epoch = 0; epoch < epochs; epoch++) {
                Dataset d = train.shuffled(seed + epoch);
                for (int from = 0; from < d.rows(); from += BATCH) {
                    int rows = Math.min(BATCH, d.rows() - from);
                    System.arraycopy(d.x(), from * d.features(), xb, 0, rows * d.features());
                    System.arraycopy(d.y(), from, yb, 0, rows);
                    losses[n++] = t.step(xb, yb, rows);
                }
            }
        } catch (DivergenceException e) {
            double[] h = e.history();
            losses[n - 1] = h[h.length - 1]; // the step that was stopped: its loss, never applied
            return new Curve(name, lr, Arrays.copyOf(losses, n), e.step(), e.getMessage());
        }
        return new Curve(name, lr, losses, -1, null);
    }

    /** The three rates of {@link #RATES}. */
    public static List<Curve> runAll(int epochs, long seed) {
        return List.of(run(NAMES[0], RATES[0], epochs, seed), run(NAMES[1], RATES[1], epochs, seed), run(NAMES[2], RATES[2], epochs, seed));
    }

    /** One line per rate. */
    public static String summary(List<Curve> curves) {
        StringBuilder sb = new StringBuilder();
        for (Curve c : curves) {
            if (c.diverged() >= 0) {
                double peak = 0;
                for (double l : c.losses()) peak = Double.isNaN(l) ? l : Math.max(peak, l);
                sb.append(String.format(Locale.ROOT, "lr %-8s (%s): diverged, loss %.4f rose to %.4g; stopped at step %d%n", fmt(c.learningRate()),
                        c.name(), c.losses()[0], peak, c.diverged()));
            } else {
                sb.append(String.format(Locale.ROOT, "lr %-8s (%s): %d steps, loss %.4f -> %.4f (mean of the last 20 steps)%n",
                        fmt(c.learningRate()), c.name(), c.losses().length, c.losses()[0], c.finalLoss()));
            }
        }
        return sb.toString();
    }

    private static String fmt(float lr) { return String.format(Locale.ROOT, "%.3g", lr); }

    public static void main(String[] args) {
        int epochs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        System.out.print(summary(runAll(epochs, 1)));
    }
}
