package dev.vgrad.compile;

/** Which flat array an operand lives in. */
public enum Space {
    /** The parameters, contiguous, in graph order (shared read-only by predictors). */
    PARAMS,
    /** The parameters' gradients, same layout as PARAMS. */
    GRADS,
    /** Activations, their gradients and scratch, placed by the buffer planner. */
    ARENA
}
