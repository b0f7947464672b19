package dev.vgrad.autodiff;

/** The primitive backward operations the derivative rules are written in. */
public enum GradKernel {
    /** dPred (=) dL/dpred from the loss (fused into the loss's forward kernel). Inputs: pred, target. */
    LOSS_SEED,
    /** dx (+)= dy * act'(v), v = y or (GELU) x. Inputs: v, dy. */
    ACTIVATION_BACKWARD,
    /** dx (+)= y * (dy - rowsum(dy * y)). Inputs: y, dy. */
    SOFTMAX_BACKWARD,
    /** dx (+)= dy · Wᵀ. Inputs: dy, W. */
    MATMUL_NT,
    /** dW (+)= xᵀ · dy. Inputs: x, dy. */
    MATMUL_TN,
    /** db (+)= column sums of dy. Inputs: dy. */
    COL_SUM,
    /** dx (+)= dy: a gradient passed through unchanged (add). Inputs: dy. */
    ACCUMULATE,
    /** dx (+)= dy * other. Inputs: dy, other. */
    MUL_ACCUMULATE
}
