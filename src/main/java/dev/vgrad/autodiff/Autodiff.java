package dev.vgrad.autodiff;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphException;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode differentiation: walks the forward order backwards from the loss and applies each
 * node's rule. A node feeding several consumers gets the sum of their contributions: the first writes
 * its gradient, the others accumulate into it.
 */
public final class Autodiff {
    private Autodiff() {}

    /** The backward pass of a graph: the ops in execution order and how many terms each gradient sums. */
    public record Backward(List<GradOp> ops, Map<Node, Integer> contributions, boolean[] needsGrad) {
        /** True when node n receives a gradient. */
        public boolean needs(Node n) { return needsGrad[n.id()]; }
    }

    /**
     * Differentiates the loss of {@code graph} along {@code order} (a topological order ending at the loss).
     * Gradients are computed only for nodes that lead from a parameter (or an input that asks for one) to the loss.
     */
    public static Backward differentiate(Graph graph, List<Node> order) {
        Node loss = graph.loss();
        if (loss == null) throw new GraphException("the graph has no loss to differentiate");
        boolean[] needs = new boolean[graph.nodes().size()];
        for (Node n : order) {
            boolean need = (n.op() == Op.PARAM || n.op() == Op.INPUT) && n.requiresGrad();
            for (Node in : n.inputs()) need |= needs[in.id()];
            needs[n.id()] = need;
        }
        List<GradOp> ops = new ArrayList<>();
        Map<Node, Integer> count = new HashMap<>();
        final class Collector implements DerivativeRules.Emitter {
            Node rule; // the node whose rule is running

            @Override
            public boolean needs(Node x) { return needs[x.id()]; }

            @Override
            public void contribute(Node x, GradKernel kernel, Ref... inputs) {
                int k = count.merge(x, 1, Integer::sum);
                ops.add(new GradOp(kernel, rule, List.of(inputs), Ref.grad(x), k > 1));
            }
        }
        Collector collector = new Collector();
        // reverse topological order: every consumer's rule runs before its inputs' own rules
        for (int i = order.size() - 1; i >= 0; i--) {
            Node y = order.get(i);
            if (y.op().isLeaf() || !needs[y.id()]) continue;
            if (y != loss && !count.containsKey(y)) continue; // no path from y to the loss
            collector.rule = y;
            DerivativeRules.of(y.op()).apply(y, collector);
        }
        return new Backward(List.copyOf(ops), Map.copyOf(count), needs);
    }
}
