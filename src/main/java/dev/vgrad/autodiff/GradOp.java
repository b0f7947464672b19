package dev.vgrad.autodiff;

import dev.vgrad.graph.Node;
import java.util.List;

/**
 * One term of the chain rule: {@code out (+)= kernel(inputs)}, emitted by the rule of {@code node}.
 * {@code accumulate} is false for the first contribution to a gradient and true for the others: the
 * fan-out sum of backpropagation.
 */
public record GradOp(GradKernel kernel, Node node, List<Ref> inputs, Ref out, boolean accumulate) {
    @Override
    public String toString() {
        return out + (accumulate ? " += " : " = ") + kernel.name().toLowerCase() + inputs + "  (rule of " + node.name() + ")";
    }
}
