package dev.vgrad.spark;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model every executor compiles: an MLP classifier {@code features -> hidden... -> classes} with one
 * activation, dense layers {@code fc1, fc2, ..., out} and a softmax cross-entropy loss on integer labels.
 * Small, immutable and {@link Serializable}, so it travels inside Spark tasks and keys the executors'
 * plan cache ({@link WorkerPool}); equal specs compile to the same plan with the same parameter layout.
 */
public record ModelSpec(int features, List<Integer> hidden, int classes, Activation activation, Init init) implements Serializable {
    public ModelSpec {
        if (features < 1) throw new IllegalArgumentException("model: features must be >= 1, got " + features);
        if (classes < 2) throw new IllegalArgumentException("model: classes must be >= 2, got " + classes);
        hidden = List.copyOf(hidden);
        for (int h : hidden) if (h < 1) throw new IllegalArgumentException("model: hidden layer sizes must be >= 1, got " + hidden);
        java.util.Objects.requireNonNull(activation, "activation");
        java.util.Objects.requireNonNull(init, "init");
    }

    /** A ReLU MLP with He-uniform initialisation. */
    public static ModelSpec mlp(int features, int classes, int... hidden) {
        List<Integer> h = new ArrayList<>();
        for (int u : hidden) h.add(u);
        return new ModelSpec(features, h, classes, Activation.RELU, Init.HE_UNIFORM);
    }

    /** The training graph compiled for {@code batch} rows: input "x", dense layers fc1..fcN and "out". */
    public Graph graph(int batch) {
        GraphBuilder b = Graph.builder().defaultInit(init);
        Node h = b.input("x", batch, features);
        for (int i = 0; i < hidden.size(); i++) h = b.activation(activation, b.dense("fc" + (i + 1), h, hidden.get(i)));
        b.softmaxCrossEntropy(b.dense("out", h, classes));
        return b.build();
    }

    /** "784-256-256-10 relu he-uniform": the form {@link #parse} reads and checkpoints store. */
    public String text() {
        StringBuilder sb = new StringBuilder().append(features);
        for (int h : hidden) sb.append('-').append(h);
        return sb.append('-').append(classes).append(' ').append(activation.id()).append(' ')
                .append(init.name().toLowerCase(Locale.ROOT).replace('_', '-')).toString();
    }

    /** Reads {@link #text}: layer sizes joined by '-', then optionally the activation and the initialiser. */
    public static ModelSpec parse(String text) {
        String[] parts = text.trim().split("\\s+");
        String[] sizes = parts[0].split("-");
        if (sizes.length < 2) throw new IllegalArgumentException("model '" + text + "': need at least 'features-classes', e.g. 784-256-10");
        int[] n = new int[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            try {
                n[i] = Integer.parseInt(sizes[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model '" + text + "': layer size '" + sizes[i] + "' is not an integer");
            }
        }
        List<Integer> hidden = new ArrayList<>();
        for (int i = 1; i < n.length - 1; i++) hidden.add(n[i]);
        Activation act = parts.length > 1 ? Activation.parse(parts[1]) : Activation.RELU;
        Init init = parts.length > 2 ? Init.valueOf(parts[2].toUpperCase(Locale.ROOT).replace('-', '_')) : Init.HE_UNIFORM;
        return new ModelSpec(n[0], hidden, n[n.length - 1], act, init);
    }
}
