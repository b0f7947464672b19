package dev.vgrad.graph;

/** A graph that cannot be built or compiled: the message names the op, the nodes and the shapes. */
public class GraphException extends IllegalArgumentException {
    public GraphException(String message) { super(message); }
}
