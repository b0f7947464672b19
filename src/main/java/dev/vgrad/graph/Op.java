package dev.vgrad.graph;

/** The node kinds a graph is built from. Derivative rules: {@code autodiff.DerivativeRules}, one per op. */
public enum Op {
    /** A batched input the caller fills each step. */
    INPUT,
    /** Integer class labels, one per row, carried as floats (batch, 1). */
    LABELS,
    /** Float targets for regression-style losses (batch, cols). */
    TARGETS,
    /** A trainable parameter. */
    PARAM,
    /** y = x W + b; inputs (x, W, b). */
    DENSE,
    /** y = act(x), the activation named by the node. */
    ACTIVATION,
    /** y = softmax(x) row-wise. */
    SOFTMAX,
    /** y = a + b. */
    ADD,
    /** y = a * b elementwise. */
    MUL,
    /** L = mean((p - t)^2) over all elements. */
    MSE,
    /** L = -mean(log softmax(z)[label]) over rows; softmax fused in. */
    SOFTMAX_CROSS_ENTROPY,
    /** L = mean(max(z,0) - z t + log(1 + exp(-|z|))) over all elements. */
    BCE_WITH_LOGITS;

    public boolean isLoss() { return this == MSE || this == SOFTMAX_CROSS_ENTROPY || this == BCE_WITH_LOGITS; }

    public boolean isLeaf() { return this == INPUT || this == LABELS || this == TARGETS || this == PARAM; }
}
