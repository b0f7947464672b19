package dev.vgrad.compile;

import dev.vgrad.graph.Activation;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * One kernel call of a plan, as data. {@code rows} is the compiled batch: the runtime runs the step
 * with the actual row count (at most rows). The meaning of {@code cols} and {@code inner} per kind:
 * DENSE (rows x inner)·(inner x cols); GEMM_NT dx(rows x cols) = dy(rows x inner)·Wᵀ (then, with an activation,
 * dx *= act'(v), v the fourth operand: the derivative of the activation below, fused);
 * GEMM_TN dW(inner x cols) = xᵀ(inner x rows)·dy(rows x cols); others (rows x cols) elementwise or row-wise.
 */
public record Step(int index, StepKind kind, boolean backward, String label, int rows, int cols, int inner,
                   Activation activation, float alpha, boolean accumulate, Operand[] operands, String layer) {

    public Step {
        Objects.requireNonNull(kind);
        operands = operands.clone();
    }

    public Operand operand(int i) { return operands[i]; }

    /** For a GEMM step run on {@code rows} rows: the rows of its product's C (inner for dW = xᵀ dy, else rows). */
    public int gemmM(int rows) { return kind == StepKind.GEMM_TN ? inner : rows; }

    /** For a GEMM step run on {@code rows} rows: its product's inner size (rows for dW = xᵀ dy, else inner). */
    public int gemmK(int rows) { return kind == StepKind.GEMM_TN ? rows : inner; }

    /** Floating-point operations at the compiled batch. */
    public long flops() {
        long r = rows, c = cols, k = inner;
        return switch (kind) {
            case DENSE -> 2 * r * k * c + 2 * r * c;
            case GEMM_NT -> 2 * r * k * c + (activation == Activation.IDENTITY ? 0 : r * c);
            case GEMM_TN -> 2 * r * k * c;
            case SOFTMAX, SOFTMAX_BACKWARD, LOSS_SOFTMAX_CROSS_ENTROPY -> 4 * r * c;
            default -> r * c;
        };
    }

    /** The kernel this step calls, as printed in plans. */
    public String kernel() {
        return switch (kind) {
            case DENSE -> "gemm.nn+bias" + (activation == Activation.IDENTITY ? "" : "+" + activation.id());
            case ACTIVATION -> activation.id();
            case ACTIVATION_BACKWARD -> activation.id() + "'" + (operands[1] == operands[2] ? " in place" : "");
            case GEMM_NT -> "gemm.nt" + (activation == Activation.IDENTITY ? "" : "·" + activation.id() + "'");
            case GEMM_TN -> "gemm.tn";
            default -> kind.name().toLowerCase();
        };
    }

    @Override
    public String toString() {
        String ops = Arrays.stream(operands).map(o -> o == null ? "-" : o.toString()).collect(Collectors.joining(" "));
        return String.format("%3d %-4s %-24s %-26s %s%s", index, backward ? "bwd" : "fwd", kernel(), label, ops, accumulate ? " (+=)" : "");
    }
}
