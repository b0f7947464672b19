package dev.vgrad.graph;

import java.util.List;

/**
 * One value in the graph. Immutable; created only by {@link GraphBuilder}, so every node's inputs
 * were created before it and creation order is a topological order.
 */
public final class Node {
    private final int id;
    private final String name;
    private final Op op;
    private final Shape shape;
    private final List<Node> inputs;
    private final Activation activation;
    private final float alpha;
    private final Init init;
    private final boolean requiresGrad;
    private final String layer;

    Node(int id, String name, Op op, Shape shape, List<Node> inputs, Activation activation, float alpha,
         Init init, boolean requiresGrad, String layer) {
        this.id = id;
        this.name = name;
        this.op = op;
        this.shape = shape;
        this.inputs = List.copyOf(inputs);
        this.activation = activation;
        this.alpha = alpha;
        this.init = init;
        this.requiresGrad = requiresGrad;
        this.layer = layer;
    }

    public int id() { return id; }
    public String name() { return name; }
    public Op op() { return op; }
    public Shape shape() { return shape; }
    public List<Node> inputs() { return inputs; }
    public Node input(int i) { return inputs.get(i); }
    /** The activation of an ACTIVATION node; IDENTITY otherwise. */
    public Activation activation() { return activation; }
    /** The negative slope of a leaky ReLU; 0 otherwise. */
    public float alpha() { return alpha; }
    /** How a PARAM is initialised; null for other nodes. */
    public Init init() { return init; }
    /** Parameters always need a gradient; an input only when asked for. */
    public boolean requiresGrad() { return requiresGrad; }
    /** The layer this node belongs to (a dense layer's name), or null: used to group telemetry and drawings. */
    public String layer() { return layer; }

    /** "op 'name' (r, c)", as error messages and plans print a node. */
    public String describe() {
        String kind = op == Op.ACTIVATION ? activation.id() : op.name().toLowerCase(java.util.Locale.ROOT);
        return kind + " '" + name + "' " + shape;
    }

    @Override
    public String toString() { return describe(); }
}
