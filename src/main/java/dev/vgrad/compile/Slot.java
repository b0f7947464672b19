package dev.vgrad.compile;

import dev.vgrad.graph.Node;
import dev.vgrad.graph.Shape;

/** Where a named tensor lives: a parameter, an input, the output or an input's gradient. */
public record Slot(String name, Node node, Space space, int offset, int size, Shape shape) {}
