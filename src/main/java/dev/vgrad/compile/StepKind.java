package dev.vgrad.compile;

/** The kernels a plan's steps run; the runtime has one case per kind. */
public enum StepKind {
    // forward
    /** y = act(x W + b), bias and activation fused into the GEMM's output pass. Operands x, W, b, y, z (pre-activation or null). */
    DENSE,
    /** y = act(x). Operands x, y. */
    ACTIVATION,
    /** y = softmax(x). Operands x, y. */
    SOFTMAX,
    /** y = a + b. Operands a, b, y. */
    ADD,
    /** y = a * b. Operands a, b, y. */
    MUL,
    /** L and dL/dz of softmax cross-entropy. Operands z, labels, dz (or null). */
    LOSS_SOFTMAX_CROSS_ENTROPY,
    /** L and dL/dp of mean squared error. Operands p, t, dp (or null). */
    LOSS_MSE,
    /** L and dL/dz of binary cross-entropy on logits. Operands z, t, dz (or null). */
    LOSS_BCE_WITH_LOGITS,
    // backward
    /** dx (+)= dy * act'(v). Operands v, dy, dx (dx may be dy: in place). */
    ACTIVATION_BACKWARD,
    /** dx (+)= y (dy - rowsum(dy y)). Operands y, dy, dx. */
    SOFTMAX_BACKWARD,
    /** dx (+)= dy Wᵀ. Operands dy, W, dx. */
    GEMM_NT,
    /** dW (+)= xᵀ dy. Operands x, dy, dW. */
    GEMM_TN,
    /** db (+)= colsum(dy). Operands dy, db. */
    COL_SUM,
    /** dx (+)= dy. Operands dy, dx. */
    ACCUMULATE,
    /** dx (+)= dy * other. Operands dy, other, dx. */
    MUL_ACCUMULATE;

    public boolean isLoss() {
        return this == LOSS_SOFTMAX_CROSS_ENTROPY || this == LOSS_MSE || this == LOSS_BCE_WITH_LOGITS;
    }
}
