package dev.vgrad.autodiff;

import dev.vgrad.graph.Node;

/** A node's value or its gradient dL/dnode: what a backward op reads or writes. */
public record Ref(Node node, boolean grad) {
    public static Ref value(Node n) { return new Ref(n, false); }

    public static Ref grad(Node n) { return new Ref(n, true); }

    @Override
    public String toString() { return grad ? "dL/d" + node.name() : node.name(); }
}
