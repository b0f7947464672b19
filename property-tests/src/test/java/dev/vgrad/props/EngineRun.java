package dev.vgrad.props;

import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.compile.Step;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Op;
import dev.vgrad.runtime.Executor;
import java.util.Arrays;
import java.util.Map;

/**
 * A graph compiled and run through the engine's own executor on values the test sets: every leaf by
 * name, then forward, loss and backward. The arena and gradients are filled with NaN before each run,
 * so a kernel that reads memory no earlier step wrote poisons the result instead of passing by luck.
 */
final class EngineRun {
    final Plan plan;
    final float[] params;
    final float[] grads;
    final float[] arena;
    final Executor executor;
    /** The loss of the last {@link #run}, for tests that keep it beside the run. */
    double lastLoss = Double.NaN;
    /** The model output (first rows) as the last forward left it, copied before backward may reuse its memory. */
    float[] output = new float[0];

    EngineRun(Graph g, CompileOptions options) { this(g, options, Executor.defaultThreads()); }

    /** The executor splitting its work over {@code threads} threads. */
    EngineRun(Graph g, CompileOptions options, int threads) {
        this.plan = Compiler.compile(g, options);
        this.params = new float[plan.paramsSize()];
        this.grads = new float[plan.paramsSize()];
        this.arena = new float[Math.max(1, plan.arenaSize())];
        this.executor = new Executor(plan, params, grads, arena, threads);
    }

    EngineRun(Graph g) { this(g, CompileOptions.defaults()); }

    /**
     * Sets parameters (full shape) and feeds inputs, targets and labels (rows x cols) from {@code values},
     * then runs forward with the loss; returns the loss.
     */
    double forward(Map<String, float[]> values, int rows) {
        Arrays.fill(arena, Float.NaN);
        Arrays.fill(grads, Float.NaN);
        for (Slot s : plan.params()) {
            float[] v = values.get(s.name());
            if (v == null) throw new IllegalArgumentException("no value for parameter " + s.name());
            System.arraycopy(v, 0, params, s.offset(), s.size());
        }
        for (Slot s : plan.inputs().values()) {
            float[] v = values.get(s.name());
            if (v == null) throw new IllegalArgumentException("no value for " + s.node().describe());
            int n = rows * s.shape().cols();
            System.arraycopy(v, 0, arena, s.offset(), n);
        }
        double loss = executor.forward(rows, true);
        Slot o = plan.output();
        output = Arrays.copyOfRange(arena, o.offset(), o.offset() + rows * o.shape().cols());
        return loss;
    }

    /** Runs forward, loss and backward; returns the loss. */
    double run(Map<String, float[]> values, int rows) {
        double loss = forward(values, rows);
        executor.backward(rows);
        return loss;
    }

    /** After {@link #forward}: overwrites dL/d(prediction), which the loss step wrote, with {@code c}. */
    void seedPredictionGradient(float[] c, int rows) {
        Step loss = plan.steps().get(plan.lossStep());
        Operand d = loss.operand(2);
        if (d == null) throw new IllegalStateException("the loss's prediction gets no gradient in this plan");
        System.arraycopy(c, 0, arena, d.offset(), rows * loss.cols());
    }

    void backward(int rows) { executor.backward(rows); }

    /** dL/d(name) for a parameter, or the first rows of an input built with requiresGrad. */
    float[] grad(String name, int rows) {
        for (Slot s : plan.params()) if (s.name().equals(name)) return Arrays.copyOfRange(grads, s.offset(), s.offset() + s.size());
        for (Slot s : plan.inputGrads()) {
            if (s.name().equals(name)) return Arrays.copyOfRange(arena, s.offset(), s.offset() + rows * s.shape().cols());
        }
        throw new IllegalArgumentException("no gradient for '" + name + "' in\n" + plan.describe());
    }

    boolean isParam(String name) { return plan.graph().node(name).op() == Op.PARAM; }

    @Override
    public String toString() { return plan.describe(); }
}
