package dev.vgrad.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A static graph: nodes in creation order (a topological order), one loss, one output.
 * Defined once with {@link GraphBuilder}; compiled once by {@code compile.Compiler}.
 */
public final class Graph {
    private final List<Node> nodes;
    private final Node loss;
    private final Node output;
    private final Map<String, Node> byName;

    Graph(List<Node> nodes, Node loss, Node output) {
        this.nodes = List.copyOf(nodes);
        this.loss = loss;
        this.output = output;
        Map<String, Node> m = new LinkedHashMap<>();
        for (Node n : nodes) m.put(n.name(), n);
        this.byName = Collections.unmodifiableMap(m);
    }

    public static GraphBuilder builder() { return new GraphBuilder(); }

    public List<Node> nodes() { return nodes; }

    /** The loss node (a scalar), or null for a forward-only graph. */
    public Node loss() { return loss; }

    /** The model's output: what {@code forward} returns (the logits for a classifier). */
    public Node output() { return output; }

    public Node node(String name) {
        Node n = byName.get(name);
        if (n == null) throw new GraphException("no node named '" + name + "' in the graph (nodes: " + byName.keySet() + ")");
        return n;
    }

    public boolean has(String name) { return byName.containsKey(name); }

    /** Nodes that are PARAMs, in creation order. */
    public List<Node> params() { return ofOp(Op.PARAM); }

    /** Nodes that are INPUTs, in creation order. */
    public List<Node> inputs() { return ofOp(Op.INPUT); }

    private List<Node> ofOp(Op op) {
        List<Node> r = new ArrayList<>();
        for (Node n : nodes) if (n.op() == op) r.add(n);
        return r;
    }

    /** The nodes the given root depends on, root last: a topological order from the root. */
    public List<Node> orderFrom(Node root) {
        boolean[] seen = new boolean[nodes.size()];
        List<Node> order = new ArrayList<>();
        // iterative post-order DFS, so a deep chain cannot overflow the stack
        List<Node> stack = new ArrayList<>();
        List<Integer> next = new ArrayList<>(); // the next input to visit, per stack entry
        seen[root.id()] = true;
        stack.add(root);
        next.add(0);
        while (!stack.isEmpty()) {
            int top = stack.size() - 1;
            Node n = stack.get(top);
            int i = next.get(top);
            if (i < n.inputs().size()) {
                next.set(top, i + 1);
                Node in = n.input(i);
                if (!seen[in.id()]) {
                    seen[in.id()] = true;
                    stack.add(in);
                    next.add(0);
                }
            } else {
                stack.remove(top);
                next.remove(top);
                order.add(n);
            }
        }
        return order;
    }

    /** For each node id, the nodes that consume it (within the given order). */
    public static Map<Node, List<Node>> consumers(List<Node> order) {
        Map<Node, List<Node>> m = new HashMap<>();
        for (Node n : order) m.put(n, new ArrayList<>());
        for (Node n : order) for (Node in : n.inputs()) m.get(in).add(n);
        return m;
    }

    /** One line per node: "id op 'name' (r, c) <- inputs". */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Node n : nodes) {
            sb.append(String.format("%3d %s", n.id(), n.describe()));
            if (!n.inputs().isEmpty()) {
                sb.append(" <-");
                for (Node in : n.inputs()) sb.append(' ').append('\'').append(in.name()).append('\'');
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
