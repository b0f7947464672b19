/**
 * Runs a compiled plan over its three flat arrays (parameters, gradients, arena), and serves trained
 * models ({@link dev.vgrad.runtime.Predictor}).
 *
 * <p><b>Contract: no allocation.</b> Once an {@link dev.vgrad.runtime.Executor} is constructed, running
 * the forward and backward passes allocates nothing on the Java heap: every buffer was sized by the
 * compiler and allocated once, steps are plain data read by a switch, and kernels keep vectors in
 * locals. Tests check this with {@code ThreadMXBean#getThreadAllocatedBytes}; JMH checks it with
 * {@code -prof gc}.
 *
 * <p><b>Threads.</b> Matrix products are split over the engine's persistent {@link
 * dev.vgrad.runtime.WorkerPool} (no thread or task created per step) by blocks of rows or columns of
 * the output only, so every result is bitwise identical for 1, 2 or N threads.
 *
 * <p><b>Contract: shared predictors.</b> A {@link dev.vgrad.runtime.Predictor}'s weights are copied at
 * construction and never written; each call borrows a private workspace from a lock-free pool, so any
 * number of threads may call one predictor at once, and once the pool holds a workspace per concurrent
 * caller no call allocates.
 */
package dev.vgrad.runtime;
