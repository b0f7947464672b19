package dev.vgrad.runtime;

import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Step;
import dev.vgrad.kernel.Activations;
import dev.vgrad.kernel.Bias;
import dev.vgrad.kernel.Elementwise;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.Losses;
import dev.vgrad.kernel.Softmax;

/**
 * Runs a plan's steps over a parameter array, a gradient array and an arena. One executor per thread:
 * it holds no state but the arrays it was given (parameters may be shared read-only between executors
 * of forward-only plans).
 */
public final class Executor {
    private final Plan plan;
    private final Step[] steps;
    private final float[] params;
    private final float[] grads;
    private final float[] arena;

    public Executor(Plan plan, float[] params, float[] grads, float[] arena) {
        if (params.length < plan.paramsSize()) {
            throw new IllegalArgumentException("params array has " + params.length + " floats, the plan needs " + plan.paramsSize());
        }
        if (arena.length < plan.arenaSize()) {
            throw new IllegalArgumentException("arena has " + arena.length + " floats, the plan needs " + plan.arenaSize());
        }
        if (plan.training() && (grads == null || grads.length < plan.paramsSize())) {
            throw new IllegalArgumentException("a training plan needs a gradient array of " + plan.paramsSize() + " floats");
        }
        this.plan = plan;
        this.steps = plan.steps().toArray(new Step[0]);
        this.params = params;
        this.grads = grads;
        this.arena = arena;
    }

    public Plan plan() { return plan; }
    public float[] params() { return params; }
    public float[] grads() { return grads; }
    public float[] arena() { return arena; }

    /**
     * Runs the forward steps on the first {@code rows} rows; with {@code withLoss} also the loss step
     * (which writes the loss's gradient). Returns the loss, or NaN without it.
     */
    public double forward(int rows, boolean withLoss) {
        double loss = Double.NaN;
        int end = plan.forwardSteps();
        for (int s = 0; s < end; s++) {
            Step st = steps[s];
            if (st.kind().isLoss()) {
                if (withLoss) loss = run(st, rows);
            } else {
                run(st, rows);
            }
        }
        return loss;
    }

    /** Runs the backward steps (after a forward with the loss): parameter gradients are overwritten. */
    public void backward(int rows) {
        for (int s = plan.forwardSteps(); s < steps.length; s++) run(steps[s], rows);
    }

    /** Runs one step on {@code rows} rows; returns the loss for a loss step, 0 otherwise. */
    public double run(Step st, int rows) {
        int c = st.cols(), k = st.inner();
        Operand[] o = st.operands();
        switch (st.kind()) {
            case DENSE -> {
                // y = x W, then y = act(y + b) in one pass over the output
                float[] y = a(o[3]);
                Gemm.nn(rows, c, k, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), y, o[3].offset(), false);
                Bias.biasActivation(rows, c, a(o[2]), o[2].offset(), st.activation(), st.alpha(), y, o[3].offset(),
                        o[4] == null ? null : a(o[4]), o[4] == null ? 0 : o[4].offset());
            }
            case ACTIVATION -> Activations.forward(st.activation(), st.alpha(), a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), rows * c);
            case SOFTMAX -> Softmax.forward(rows, c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset());
            case ADD -> Elementwise.add(a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(), rows * c);
            case MUL -> Elementwise.mul(a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(), rows * c);
            case LOSS_SOFTMAX_CROSS_ENTROPY -> {
                return Losses.softmaxCrossEntropy(rows, c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : o[2].offset());
            }
            case LOSS_MSE -> {
                return Losses.mse(rows * c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : o[2].offset());
            }
            case LOSS_BCE_WITH_LOGITS -> {
                return Losses.bceWithLogits(rows * c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : o[2].offset());
            }
            case ACTIVATION_BACKWARD -> Activations.backward(st.activation(), st.alpha(), a(o[0]), o[0].offset(), a(o[1]), o[1].offset(),
                    a(o[2]), o[2].offset(), rows * c, st.accumulate());
            case SOFTMAX_BACKWARD -> Softmax.backward(rows, c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(),
                    st.accumulate());
            case GEMM_NT -> Gemm.nt(rows, c, k, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(), st.accumulate());
            case GEMM_TN -> Gemm.tn(k, c, rows, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(), st.accumulate());
            case COL_SUM -> Bias.colSum(rows, c, a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), st.accumulate());
            case ACCUMULATE -> Elementwise.accumulate(a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), rows * c, st.accumulate());
            case MUL_ACCUMULATE -> Elementwise.mulAccumulate(a(o[0]), o[0].offset(), a(o[1]), o[1].offset(), a(o[2]), o[2].offset(),
                    rows * c, st.accumulate());
        }
        return 0;
    }

    private float[] a(Operand o) {
        return switch (o.space()) {
            case PARAMS -> params;
            case GRADS -> grads;
            case ARENA -> arena;
        };
    }
}
