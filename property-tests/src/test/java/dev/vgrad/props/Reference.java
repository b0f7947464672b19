package dev.vgrad.props;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Node;
import java.util.HashMap;
import java.util.Map;

/**
 * Scalar double-precision references of every op, written from the textbook formulas and sharing no
 * code with the engine, plus an interpreter that evaluates a whole {@link Graph} with them. Finite
 * differences are taken on these, so float rounding in the engine can neither hide nor fake an error.
 */
public final class Reference {
    private Reference() {}

    /** sqrt(2 / pi) and the cubic coefficient of GELU's tanh form. */
    static final double GELU_C = Math.sqrt(2 / Math.PI), GELU_K = 0.044715;

    public static double act(Activation a, double alpha, double x) {
        return switch (a) {
            case IDENTITY -> x;
            case RELU -> x > 0 ? x : 0;
            case LEAKY_RELU -> x > 0 ? x : alpha * x;
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case GELU -> 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_K * x * x * x)));
        };
    }

    public static double[] act(Activation a, double alpha, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = act(a, alpha, x[i]);
        return y;
    }

    /** z = x W + b: x (m, k), W (k, n), b (1, n). */
    public static double[] dense(int m, int k, int n, double[] x, double[] w, double[] b) {
        double[] z = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = b[j];
                for (int p = 0; p < k; p++) s += x[i * k + p] * w[p * n + j];
                z[i * n + j] = s;
            }
        }
        return z;
    }

    /** Row-wise softmax of (m, n). */
    public static double[] softmax(int m, int n, double[] x) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < n; j++) max = Math.max(max, x[i * n + j]);
            for (int j = 0; j < n; j++) sum += Math.exp(x[i * n + j] - max);
            for (int j = 0; j < n; j++) y[i * n + j] = Math.exp(x[i * n + j] - max) / sum;
        }
        return y;
    }

    public static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    public static double[] mul(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] * b[i];
        return y;
    }

    /** mean((p - t)^2) over all elements. */
    public static double mse(double[] p, double[] t) {
        double s = 0;
        for (int i = 0; i < p.length; i++) s += (p[i] - t[i]) * (p[i] - t[i]);
        return s / p.length;
    }

    /** mean(-t log sigmoid(z) - (1 - t) log(1 - sigmoid(z))), in the overflow-free form. */
    public static double bceWithLogits(double[] z, double[] t) {
        double s = 0;
        for (int i = 0; i < z.length; i++) {
            // -t log s - (1-t) log(1-s) = log(1 + e^z) - t z
            double softplus = z[i] > 0 ? z[i] + Math.log1p(Math.exp(-z[i])) : Math.log1p(Math.exp(z[i]));
            s += softplus - t[i] * z[i];
        }
        return s / z.length;
    }

    /** mean over rows of log(sum_j exp z_ij) - z_i,label_i. */
    public static double softmaxCrossEntropy(int m, int n, double[] z, double[] labels) {
        double s = 0;
        for (int i = 0; i < m; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < n; j++) max = Math.max(max, z[i * n + j]);
            for (int j = 0; j < n; j++) sum += Math.exp(z[i * n + j] - max);
            s += max + Math.log(sum) - z[i * n + (int) labels[i]];
        }
        return s / m;
    }

    public static double[] toDouble(float[] a, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = a[i];
        return d;
    }

    /** What evaluating a graph gives: the loss and how close any relu / leaky relu input came to its kink at 0. */
    public record Evaluation(double loss, double nearestKink, Map<String, double[]> values) {}

    /**
     * Evaluates the graph's loss on the first {@code rows} rows. {@code leaves} maps every parameter
     * (full shape), input and target (rows x cols) and labels (rows) by name.
     */
    public static Evaluation evaluate(Graph g, int rows, Map<String, double[]> leaves) {
        Map<Node, double[]> v = new HashMap<>();
        Map<String, double[]> byName = new HashMap<>();
        double kink = Double.POSITIVE_INFINITY;
        double loss = Double.NaN;
        for (Node n : g.orderFrom(g.loss())) {
            int c = n.shape().cols();
            double[] y = switch (n.op()) {
                case INPUT, LABELS, TARGETS, PARAM -> {
                    double[] x = leaves.get(n.name());
                    if (x == null) throw new IllegalArgumentException("no value for leaf " + n.describe());
                    yield x;
                }
                case DENSE -> {
                    Node x = n.input(0), w = n.input(1), b = n.input(2);
                    yield dense(rows, x.shape().cols(), c, v.get(x), v.get(w), v.get(b));
                }
                case ACTIVATION -> {
                    double[] x = v.get(n.input(0));
                    if (n.activation() == Activation.RELU || n.activation() == Activation.LEAKY_RELU) {
                        for (double xi : x) kink = Math.min(kink, Math.abs(xi));
                    }
                    yield act(n.activation(), n.alpha(), x);
                }
                case SOFTMAX -> softmax(rows, c, v.get(n.input(0)));
                case ADD -> add(v.get(n.input(0)), v.get(n.input(1)));
                case MUL -> mul(v.get(n.input(0)), v.get(n.input(1)));
                case MSE -> new double[] {mse(v.get(n.input(0)), v.get(n.input(1)))};
                case BCE_WITH_LOGITS -> new double[] {bceWithLogits(v.get(n.input(0)), v.get(n.input(1)))};
                case SOFTMAX_CROSS_ENTROPY -> new double[] {softmaxCrossEntropy(rows, n.input(0).shape().cols(), v.get(n.input(0)), v.get(n.input(1)))};
            };
            v.put(n, y);
            byName.put(n.name(), y);
            if (n == g.loss()) loss = y[0];
        }
        return new Evaluation(loss, kink, byName);
    }
}
