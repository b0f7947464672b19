package dev.vgrad.props;

import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A randomly generated whole graph with values for every leaf: an input, a stack of layers (chains,
 * fan-out summed or multiplied, residual adds, skips from the input, a second input, softmax), a dense
 * head and a loss. Printed (e.g. when a property shrinks a failure) as the compiled plan's
 * {@code describe()}: the steps, kernels, shapes and arena offsets of the minimal failing graph.
 */
record GraphCase(Gens.Rows rows, int inputWidth, boolean inputGrad, List<Layer> layers, int outWidth, LossKind loss, Gens.Data data) {

    enum Kind {
        /** h = act(dense(h)) */
        DENSE,
        /** h = act(h) */
        ACTIVATION,
        /** h = h + act(dense(h)): a residual add; h fans out */
        RESIDUAL,
        /** h = act1(h) + act2(h): fan-out summed */
        FAN_OUT_SUM,
        /** h = act1(h) * dense(h): fan-out multiplied */
        FAN_OUT_MUL,
        /** h = softmax(h) */
        SOFTMAX,
        /** h = h + dense(x): a skip from the input, which fans out */
        SKIP_FROM_INPUT,
        /** h = h * act(dense(x2)) with a second input x2 */
        SECOND_INPUT
    }

    enum LossKind { MSE, BCE_WITH_LOGITS, SOFTMAX_CROSS_ENTROPY }

    record Layer(Kind kind, int width, Activation act1, Activation act2, float alpha) {
        @Override
        public String toString() {
            return kind + "(" + width + ", " + act1.id() + (kind == Kind.FAN_OUT_SUM ? ", " + act2.id() : "") + ")";
        }
    }

    /** The graph this case describes (a fresh one on every call: graphs are immutable and cheap). */
    Graph graph() {
        GraphBuilder b = Graph.builder();
        int batch = rows.batch();
        Node x = b.input("x", batch, inputWidth, inputGrad);
        Node h = x;
        int i = 0;
        for (Layer l : layers) {
            i++;
            int w = h.shape().cols();
            switch (l.kind()) {
                case DENSE -> h = act(b, l.act1(), l.alpha(), b.dense("d" + i, h, l.width()));
                case ACTIVATION -> h = act(b, l.act1(), l.alpha(), h);
                case RESIDUAL -> h = b.add(h, act(b, l.act1(), l.alpha(), b.dense("r" + i, h, w)));
                case FAN_OUT_SUM -> h = b.add(act(b, l.act1(), l.alpha(), h), act(b, l.act2(), l.alpha(), h));
                case FAN_OUT_MUL -> h = b.mul(act(b, l.act1(), l.alpha(), h), b.dense("m" + i, h, w));
                case SOFTMAX -> h = b.softmax(h);
                case SKIP_FROM_INPUT -> h = b.add(h, b.dense("s" + i, x, w));
                case SECOND_INPUT -> {
                    Node x2 = b.input("x" + i, batch, l.width(), true);
                    h = b.mul(h, act(b, l.act1(), l.alpha(), b.dense("i" + i, x2, w)));
                }
            }
        }
        Node out = b.dense("head", h, outWidth);
        switch (loss) {
            case MSE -> b.mse(out);
            case BCE_WITH_LOGITS -> b.binaryCrossEntropyWithLogits(out);
            case SOFTMAX_CROSS_ENTROPY -> b.softmaxCrossEntropy(out);
        }
        return b.build();
    }

    private static Node act(GraphBuilder b, Activation a, float alpha, Node h) {
        return a == Activation.IDENTITY ? h : b.activation(a, h, alpha);
    }

    /**
     * Values for every leaf, the same on every call: weights U(-1, 1) * 1.5 / sqrt(fanIn) (activations
     * stay O(1) through the stack), biases U(-0.3, 0.3), inputs U(-1, 1), targets in the loss's range.
     */
    Map<String, float[]> values(Graph g) {
        Gens.Data d = data.fork();
        Map<String, float[]> v = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            int size = n.shape().size();
            switch (n.op()) {
                case PARAM -> v.put(n.name(), n.shape().rows() == 1 && n.name().endsWith(".b") ? d.uniform(size, 0.3)
                        : d.uniform(size, 1.5 / Math.sqrt(n.shape().rows())));
                case INPUT -> v.put(n.name(), d.uniform(size, 1));
                case TARGETS -> v.put(n.name(), loss == LossKind.MSE ? d.uniform(size, 1) : d.between(size, 0, 1));
                case LABELS -> {
                    int[] y = d.labels(n.shape().rows(), outWidth);
                    float[] f = new float[y.length];
                    for (int k = 0; k < y.length; k++) f[k] = y[k];
                    v.put(n.name(), f);
                }
                default -> { }
            }
        }
        return v;
    }

    /** The leaves whose gradients the plan computes: every parameter and every input built with requiresGrad. */
    static List<String> differentiable(Graph g) {
        return g.nodes().stream().filter(n -> n.op() == Op.PARAM || (n.op() == Op.INPUT && n.requiresGrad())).map(Node::name).toList();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(rows).append(", input ").append(inputWidth).append(inputGrad ? " (requiresGrad)" : "").append(", layers ").append(layers)
                .append(", head ").append(outWidth).append(", ").append(loss).append(", ").append(data).append('\n');
        try {
            sb.append(Compiler.compile(graph(), CompileOptions.defaults()).describe());
        } catch (RuntimeException e) {
            sb.append("(does not compile: ").append(e).append(")\n").append(graph().describe());
        }
        return sb.toString();
    }
}
