package dev.vgrad.graph;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds a {@link Graph}. Shapes are inferred as nodes are added; a mismatch fails at once with a
 * {@link GraphException} naming the op, both nodes and both shapes.
 *
 * <pre>{@code
 * GraphBuilder b = Graph.builder();
 * Node x = b.input("x", 128, 784);
 * Node h = b.relu(b.dense("fc1", x, 256));
 * Node logits = b.dense("fc2", h, 10);
 * b.softmaxCrossEntropy(logits);
 * Graph g = b.build();
 * }</pre>
 */
public final class GraphBuilder {
    private final List<Node> nodes = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private Node loss;
    private Node output;
    private int batch = -1;
    private Init defaultInit = Init.GLOROT_UNIFORM;
    private boolean built;
    private String nextName;

    GraphBuilder() {}

    /** The initialiser for dense weights created without one (default Glorot uniform, as Keras). */
    public GraphBuilder defaultInit(Init init) {
        this.defaultInit = init;
        return this;
    }

    // ---- leaves ----

    /** A batched input of shape (batch, features) the caller fills each step. */
    public Node input(String name, int batch, int features) {
        return input(name, batch, features, false);
    }

    /** An input whose gradient is computed when {@code requiresGrad} (e.g. for saliency or checks). */
    public Node input(String name, int batch, int features, boolean requiresGrad) {
        checkBatch("input", name, batch);
        return add(name, Op.INPUT, Shape.batch(batch, features), List.of(), Activation.IDENTITY, 0f, null, requiresGrad, null);
    }

    /** Integer class labels, one per row. */
    public Node labels(String name, int batch) {
        checkBatch("labels", name, batch);
        return add(name, Op.LABELS, Shape.batch(batch, 1), List.of(), Activation.IDENTITY, 0f, null, false, null);
    }

    /** Float targets of shape (batch, features). */
    public Node targets(String name, int batch, int features) {
        checkBatch("targets", name, batch);
        return add(name, Op.TARGETS, Shape.batch(batch, features), List.of(), Activation.IDENTITY, 0f, null, false, null);
    }

    /** A trainable (rows, cols) parameter. */
    public Node param(String name, int rows, int cols, Init init) {
        return param(name, rows, cols, init, null);
    }

    /** A parameter that belongs to a dense layer ({@code layer} may be null); {@link GraphText} rebuilds with it. */
    Node param(String name, int rows, int cols, Init init, String layer) {
        return add(name, Op.PARAM, Shape.matrix(rows, cols), List.of(), Activation.IDENTITY, 0f, init, true, layer);
    }

    // ---- layers ----

    /** y = x W + b with W (in, units) and b (1, units) created as "name.W" and "name.b". */
    public Node dense(String name, Node x, int units, Init init) {
        requireBatched("dense", x);
        if (units <= 0) throw new GraphException("dense '" + name + "': units must be positive, got " + units);
        Node w = param(name + ".W", x.shape().cols(), units, init, name);
        Node b = param(name + ".b", 1, units, Init.ZEROS, name);
        return dense(name, x, w, b);
    }

    public Node dense(String name, Node x, int units) { return dense(name, x, units, defaultInit); }

    public Node dense(Node x, int units) { return dense(fresh("dense"), x, units, defaultInit); }

    /** y = x W + b with given parameters (shared weights are allowed). */
    public Node dense(String name, Node x, Node w, Node b) {
        requireBatched("dense", x);
        Shape xs = x.shape(), ws = w.shape(), bs = b.shape();
        if (w.shape().batched()) {
            throw new GraphException("dense '" + name + "': weight '" + w.name() + "' " + ws + " must be a parameter, not a batched value");
        }
        if (xs.cols() != ws.rows()) {
            throw new GraphException("dense '" + name + "': input '" + x.name() + "' " + xs + " does not match weight '"
                    + w.name() + "' " + ws + ": x has " + xs.cols() + " columns, W has " + ws.rows() + " rows");
        }
        if (bs.rows() != 1 || bs.cols() != ws.cols() || bs.batched()) {
            throw new GraphException("dense '" + name + "': bias '" + b.name() + "' " + bs + " must be (1, " + ws.cols()
                    + ") to match weight '" + w.name() + "' " + ws);
        }
        return add(name, Op.DENSE, Shape.batch(xs.rows(), ws.cols()), List.of(x, w, b), Activation.IDENTITY, 0f, null, false, name);
    }

    // ---- activations ----

    public Node activation(Activation act, Node x) { return activation(act, x, 0f); }

    public Node activation(Activation act, Node x, float alpha) {
        requireBatched(act.id(), x);
        if (act == Activation.LEAKY_RELU && !(alpha >= 0f && alpha < 1f)) {
            throw new GraphException("leaky-relu on '" + x.name() + "': alpha must be in [0, 1), got " + alpha);
        }
        float a = act == Activation.LEAKY_RELU ? alpha : 0f;
        return add(fresh(act.id()), Op.ACTIVATION, x.shape(), List.of(x), act, a, null, false, x.layer());
    }

    public Node relu(Node x) { return activation(Activation.RELU, x); }

    public Node leakyRelu(Node x, float alpha) { return activation(Activation.LEAKY_RELU, x, alpha); }

    public Node sigmoid(Node x) { return activation(Activation.SIGMOID, x); }

    public Node tanh(Node x) { return activation(Activation.TANH, x); }

    /** GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public Node gelu(Node x) { return activation(Activation.GELU, x); }

    /** Row-wise softmax (for a classifier trained with cross-entropy, use {@link #softmaxCrossEntropy} on logits). */
    public Node softmax(Node x) {
        requireBatched("softmax", x);
        return add(fresh("softmax"), Op.SOFTMAX, x.shape(), List.of(x), Activation.IDENTITY, 0f, null, false, x.layer());
    }

    // ---- elementwise ----

    public Node add(Node a, Node b) { return binary(Op.ADD, "add", a, b); }

    public Node mul(Node a, Node b) { return binary(Op.MUL, "mul", a, b); }

    private Node binary(Op op, String kind, Node a, Node b) {
        requireBatched(kind, a);
        requireBatched(kind, b);
        if (!a.shape().equals(b.shape())) {
            throw new GraphException(kind + ": shapes differ: '" + a.name() + "' " + a.shape() + " vs '" + b.name() + "' " + b.shape());
        }
        return add(fresh(kind), op, a.shape(), List.of(a, b), Activation.IDENTITY, 0f, null, false, null);
    }

    // ---- losses ----

    /** Mean squared error against float targets of the prediction's shape (created as "targets"). */
    public Node mse(Node prediction) { return mse(prediction, targets(fresh("targets"), prediction.shape().rows(), prediction.shape().cols())); }

    public Node mse(Node prediction, Node targets) { return loss(Op.MSE, "mse", prediction, targets); }

    /** Softmax + cross-entropy on logits against integer class labels (created as "labels"). */
    public Node softmaxCrossEntropy(Node logits) { return softmaxCrossEntropy(logits, labels(fresh("labels"), logits.shape().rows())); }

    public Node softmaxCrossEntropy(Node logits, Node labels) { return loss(Op.SOFTMAX_CROSS_ENTROPY, "softmax-cross-entropy", logits, labels); }

    /** Binary cross-entropy on logits against 0/1 (or soft) targets of the logits' shape. */
    public Node binaryCrossEntropyWithLogits(Node logits) {
        return binaryCrossEntropyWithLogits(logits, targets(fresh("targets"), logits.shape().rows(), logits.shape().cols()));
    }

    public Node binaryCrossEntropyWithLogits(Node logits, Node targets) { return loss(Op.BCE_WITH_LOGITS, "bce-with-logits", logits, targets); }

    private Node loss(Op op, String kind, Node pred, Node target) {
        requireBatched(kind, pred);
        if (loss != null) throw new GraphException(kind + ": the graph already has a loss, " + loss.describe());
        if (op == Op.SOFTMAX_CROSS_ENTROPY) {
            if (target.op() != Op.LABELS) throw new GraphException(kind + ": '" + target.name() + "' must be labels (integer classes), got " + target.describe());
            if (target.shape().rows() != pred.shape().rows()) {
                throw new GraphException(kind + ": logits '" + pred.name() + "' " + pred.shape() + " and labels '" + target.name() + "' "
                        + target.shape() + " have different batch sizes");
            }
        } else {
            if (target.op() != Op.TARGETS) throw new GraphException(kind + ": '" + target.name() + "' must be targets, got " + target.describe());
            if (!target.shape().equals(pred.shape())) {
                throw new GraphException(kind + ": prediction '" + pred.name() + "' " + pred.shape() + " and targets '" + target.name() + "' "
                        + target.shape() + " differ in shape");
            }
        }
        Node l = add(fresh(kind), op, Shape.matrix(1, 1), List.of(pred, target), Activation.IDENTITY, 0f, null, false, null);
        loss = l;
        if (output == null) output = pred;
        return l;
    }

    /** Marks the model output (what forward/predict return); defaults to the loss's prediction. */
    public GraphBuilder output(Node out) {
        requireBatched("output", out);
        this.output = out;
        return this;
    }

    public Graph build() {
        if (built) throw new IllegalStateException("build() was already called on this builder");
        if (output == null) throw new GraphException("the graph has neither a loss nor an output: call a loss or output(node)");
        built = true;
        return new Graph(nodes, loss, output);
    }

    // ---- helpers ----

    private Node add(String name, Op op, Shape shape, List<Node> inputs, Activation act, float alpha, Init init,
                     boolean requiresGrad, String layer) {
        if (built) throw new IllegalStateException("the graph was already built");
        if (name == null || name.isBlank()) throw new GraphException(op + ": a node needs a non-empty name");
        if (!names.add(name)) throw new GraphException(op.name().toLowerCase() + ": the name '" + name + "' is already used by another node");
        for (Node in : inputs) {
            if (in.id() >= nodes.size() || nodes.get(in.id()) != in) {
                throw new GraphException(op.name().toLowerCase() + " '" + name + "': input '" + in.name() + "' belongs to another graph");
            }
        }
        Node n = new Node(nodes.size(), name, op, shape, inputs, act, alpha, init, requiresGrad, layer);
        nodes.add(n);
        return n;
    }

    private void checkBatch(String kind, String name, int b) {
        if (b <= 0) throw new GraphException(kind + " '" + name + "': batch must be positive, got " + b);
        if (batch >= 0 && b != batch) {
            throw new GraphException(kind + " '" + name + "': batch " + b + " differs from the graph's batch " + batch + " set by an earlier input");
        }
        batch = b;
    }

    private static void requireBatched(String kind, Node x) {
        if (!x.shape().batched()) {
            throw new GraphException(kind + ": '" + x.name() + "' " + x.shape() + " is a parameter; this op takes batched values");
        }
    }

    /** Makes the next generated name {@code name} (used by {@link GraphText} to rebuild a graph with its own names). */
    GraphBuilder nextName(String name) {
        this.nextName = name;
        return this;
    }

    private String fresh(String kind) {
        if (nextName != null) {
            String n = nextName;
            nextName = null;
            return n;
        }
        String base = kind;
        int i = nodes.size();
        String n = base + i;
        while (names.contains(n)) n = base + (++i);
        return n;
    }
}
