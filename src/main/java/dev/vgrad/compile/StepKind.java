package dev.vgrad.compile;

/**
 * The kernels a plan's steps run; the runtime has one case per kind. Beside each kind, the operands it reads and
 * the ones it writes (by index; an absent optional operand is null): the DOT drawing and the independence of steps
 * ({@link Plan#lane}) are read from it. A step with {@code accumulate} also reads what it writes.
 */
public enum StepKind {
    // forward
    /** y = act(x W + b), bias and activation fused into the GEMM's output pass. Operands x, W, b, y, z (pre-activation or null). */
    DENSE(r(0, 1, 2), w(3, 4)),
    /** y = act(x). Operands x, y. */
    ACTIVATION(r(0), w(1)),
    /** y = softmax(x). Operands x, y. */
    SOFTMAX(r(0), w(1)),
    /** y = a + b. Operands a, b, y. */
    ADD(r(0, 1), w(2)),
    /** y = a * b. Operands a, b, y. */
    MUL(r(0, 1), w(2)),
    /** L and dL/dz of softmax cross-entropy. Operands z, labels, dz (or null). */
    LOSS_SOFTMAX_CROSS_ENTROPY(r(0, 1), w(2)),
    /** L and dL/dp of mean squared error. Operands p, t, dp (or null). */
    LOSS_MSE(r(0, 1), w(2)),
    /** L and dL/dz of binary cross-entropy on logits. Operands z, t, dz (or null). */
    LOSS_BCE_WITH_LOGITS(r(0, 1), w(2)),
    // backward
    /** dx (+)= dy * act'(v). Operands v, dy, dx (dx may be dy: in place). */
    ACTIVATION_BACKWARD(r(0, 1), w(2)),
    /** dx (+)= y (dy - rowsum(dy y)). Operands y, dy, dx. */
    SOFTMAX_BACKWARD(r(0, 1), w(2)),
    /** dx (+)= dy Wᵀ, times act'(v) when an activation's derivative is fused. Operands dy, W, dx, v (or null). */
    GEMM_NT(r(0, 1, 3), w(2)),
    /** dW (+)= xᵀ dy. Operands x, dy, dW. */
    GEMM_TN(r(0, 1), w(2)),
    /** db (+)= colsum(dy). Operands dy, db. */
    COL_SUM(r(0), w(1)),
    /** dx (+)= dy. Operands dy, dx. */
    ACCUMULATE(r(0), w(1)),
    /** dx (+)= dy * other. Operands dy, other, dx. */
    MUL_ACCUMULATE(r(0, 1), w(2));

    private final int[] reads;
    private final int[] writes;

    StepKind(int[] reads, int[] writes) {
        this.reads = reads;
        this.writes = writes;
    }

    private static int[] r(int... operands) { return operands; }

    private static int[] w(int... operands) { return operands; }

    /** Whether this kind reads operand {@code i} (it may also write it: an in-place step). */
    public boolean reads(int i) { return contains(reads, i); }

    /** Whether this kind writes operand {@code i}. */
    public boolean writes(int i) { return contains(writes, i); }

    /** The operands it reads, by index (a copy). */
    public int[] readOperands() { return reads.clone(); }

    /** The operands it writes, by index (a copy). */
    public int[] writtenOperands() { return writes.clone(); }

    private static boolean contains(int[] a, int i) {
        for (int x : a) if (x == i) return true;
        return false;
    }

    /** The matrix products (the executor splits them over threads): DENSE, GEMM_NT, GEMM_TN. */
    public boolean isGemm() {
        return this == DENSE || this == GEMM_NT || this == GEMM_TN;
    }

    public boolean isLoss() {
        return this == LOSS_SOFTMAX_CROSS_ENTROPY || this == LOSS_MSE || this == LOSS_BCE_WITH_LOGITS;
    }
}
