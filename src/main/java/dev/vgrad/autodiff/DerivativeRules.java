package dev.vgrad.autodiff;

import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.EnumMap;
import java.util.Map;

/**
 * The chain rule, one entry per op: given y = op(inputs) and dL/dy, each rule contributes dL/dinput
 * for every input that needs a gradient. Adding an op means adding its forward kernel, one rule here
 * and a property test.
 */
public final class DerivativeRules {
    private DerivativeRules() {}

    /** What a rule can do: read the gradient of its node and contribute to its inputs' gradients. */
    public interface Emitter {
        /** True when input x needs a gradient (it leads to a parameter or an input asking for one). */
        boolean needs(Node x);

        /** grad(x) (+)= kernel(inputs). */
        void contribute(Node x, GradKernel kernel, Ref... inputs);
    }

    /** One derivative rule. */
    @FunctionalInterface
    public interface Rule {
        void apply(Node y, Emitter e);
    }

    static final Map<Op, Rule> RULES = new EnumMap<>(Op.class);

    static {
        // y = x W + b:  dW = xᵀ dy,  db = colsum(dy),  dx = dy Wᵀ
        RULES.put(Op.DENSE, (y, e) -> {
            Node x = y.input(0), w = y.input(1), b = y.input(2);
            Ref dy = Ref.grad(y);
            if (e.needs(w)) e.contribute(w, GradKernel.MATMUL_TN, Ref.value(x), dy);
            if (e.needs(b)) e.contribute(b, GradKernel.COL_SUM, dy);
            if (e.needs(x)) e.contribute(x, GradKernel.MATMUL_NT, dy, Ref.value(w));
        });
        // y = act(x):  dx = dy * act'(.)  — from y, or from x for GELU
        RULES.put(Op.ACTIVATION, (y, e) -> {
            Node x = y.input(0);
            Ref v = y.activation().derivativeFromOutput() ? Ref.value(y) : Ref.value(x);
            if (e.needs(x)) e.contribute(x, GradKernel.ACTIVATION_BACKWARD, v, Ref.grad(y));
        });
        // y = softmax(x):  dx = y * (dy - rowsum(dy * y))
        RULES.put(Op.SOFTMAX, (y, e) -> {
            Node x = y.input(0);
            if (e.needs(x)) e.contribute(x, GradKernel.SOFTMAX_BACKWARD, Ref.value(y), Ref.grad(y));
        });
        // y = a + b:  da = dy,  db = dy
        RULES.put(Op.ADD, (y, e) -> {
            for (Node in : y.inputs()) if (e.needs(in)) e.contribute(in, GradKernel.ACCUMULATE, Ref.grad(y));
        });
        // y = a * b:  da = dy * b,  db = dy * a
        RULES.put(Op.MUL, (y, e) -> {
            Node a = y.input(0), b = y.input(1);
            if (e.needs(a)) e.contribute(a, GradKernel.MUL_ACCUMULATE, Ref.grad(y), Ref.value(b));
            if (e.needs(b)) e.contribute(b, GradKernel.MUL_ACCUMULATE, Ref.grad(y), Ref.value(a));
        });
        // L = loss(p, t):  dp = dL/dp (the kernel computes it beside the loss); targets get no gradient
        Rule loss = (l, e) -> {
            Node p = l.input(0);
            if (e.needs(p)) e.contribute(p, GradKernel.LOSS_SEED, Ref.value(p), Ref.value(l.input(1)));
        };
        RULES.put(Op.MSE, loss);
        RULES.put(Op.SOFTMAX_CROSS_ENTROPY, loss);
        RULES.put(Op.BCE_WITH_LOGITS, loss);
    }

    /** The rule for op, or an error naming the op when it has none (leaves have none). */
    public static Rule of(Op op) {
        Rule r = RULES.get(op);
        if (r == null) throw new IllegalStateException("no derivative rule for op " + op);
        return r;
    }
}
