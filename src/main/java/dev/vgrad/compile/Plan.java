package dev.vgrad.compile;

import dev.vgrad.graph.Graph;
import dev.vgrad.kernel.Simd;
import java.util.List;
import java.util.Map;

/**
 * A compiled graph, as data: the steps to run, where every tensor lives, and the sizes of the three
 * spaces (parameters, gradients, arena). Immutable; printable with {@link #describe()}.
 */
public final class Plan {
    private final Graph graph;
    private final CompileOptions options;
    private final int batch;
    private final List<Step> steps;
    private final int forwardSteps;
    private final int lossStep;
    private final List<Slot> params;
    private final int paramsSize;
    private final Map<String, Slot> inputs;
    private final Slot output;
    private final List<Slot> inputGrads;
    private final List<BufferInfo> buffers;
    private final int arenaSize;
    private final int arenaSizeReuse;
    private final int arenaSizeNoReuse;

    Plan(Graph graph, CompileOptions options, int batch, List<Step> steps, int forwardSteps, int lossStep,
         List<Slot> params, int paramsSize, Map<String, Slot> inputs, Slot output, List<Slot> inputGrads,
         List<BufferInfo> buffers, int arenaSize, int arenaSizeReuse, int arenaSizeNoReuse) {
        this.graph = graph;
        this.options = options;
        this.batch = batch;
        this.steps = List.copyOf(steps);
        this.forwardSteps = forwardSteps;
        this.lossStep = lossStep;
        this.params = List.copyOf(params);
        this.paramsSize = paramsSize;
        this.inputs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(inputs)); // graph order, not Map.copyOf's per-run order
        this.output = output;
        this.inputGrads = List.copyOf(inputGrads);
        this.buffers = List.copyOf(buffers);
        this.arenaSize = arenaSize;
        this.arenaSizeReuse = arenaSizeReuse;
        this.arenaSizeNoReuse = arenaSizeNoReuse;
    }

    public Graph graph() { return graph; }
    public CompileOptions options() { return options; }
    public boolean training() { return options.training(); }
    /** The compiled batch: the most rows one call can run. */
    public int batch() { return batch; }
    public List<Step> steps() { return steps; }
    /** Steps [0, forwardSteps) are the forward pass (the loss last, in a training plan); the rest are backward. */
    public int forwardSteps() { return forwardSteps; }
    /** Index of the loss step, or -1 in a forward-only plan. */
    public int lossStep() { return lossStep; }
    /** Parameters in PARAMS order (contiguous). */
    public List<Slot> params() { return params; }
    public int paramsSize() { return paramsSize; }
    /** INPUT, LABELS and TARGETS slots by node name, in graph order (the trainer feeds the first INPUT). */
    public Map<String, Slot> inputs() { return inputs; }
    public Slot output() { return output; }
    /** Gradients of inputs that asked for one (kept to the end of the step). */
    public List<Slot> inputGrads() { return inputGrads; }
    /** The planned arena buffers with their live ranges. */
    public List<BufferInfo> buffers() { return buffers; }
    /** The arena this plan runs with (planned with or without reuse, as compiled). */
    public int arenaSize() { return arenaSize; }
    public int arenaSizeWithReuse() { return arenaSizeReuse; }
    public int arenaSizeWithoutReuse() { return arenaSizeNoReuse; }

    public Slot param(String name) {
        for (Slot s : params) if (s.name().equals(name)) return s;
        throw new IllegalArgumentException("no parameter named '" + name + "' (parameters: "
                + params.stream().map(Slot::name).toList() + ")");
    }

    public Slot input(String name) {
        Slot s = inputs.get(name);
        if (s == null) throw new IllegalArgumentException("no input named '" + name + "' (inputs: " + inputs.keySet() + ")");
        return s;
    }

    /** Total FLOPs of one call at the compiled batch (forward and, when training, backward). */
    public long flops() {
        long f = 0;
        for (Step s : steps) f += s.flops();
        return f;
    }

    /** The steps (op, kernel, shapes, arena offsets, FLOPs) and the arena size with and without reuse. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("plan: %s, batch %d, %d steps, fusion %s, buffer reuse %s, species %s (%d lanes)%n",
                training() ? "training" : "forward-only", batch, steps.size(), options.fusion() ? "on" : "off",
                options.reuse() ? "on" : "off", Simd.FLOATS, Simd.LANES));
        sb.append(String.format("gemm: %s%s%n", dev.vgrad.kernel.GemmBlocking.describe(), Simd.VECTORIZED ? "" : " (scalar fallback: no SIMD)"));
        sb.append(String.format("%3s %-4s %-24s %-26s %-16s %12s  %s%n", "#", "pass", "kernel", "node", "shape", "MFLOP", "operands (name@space offset)"));
        for (Step s : steps) {
            String shape = switch (s.kind()) {
                case DENSE -> s.rows() + "x" + s.inner() + "·" + s.inner() + "x" + s.cols();
                case GEMM_NT -> s.rows() + "x" + s.inner() + "·(" + s.cols() + "x" + s.inner() + ")ᵀ";
                case GEMM_TN -> "(" + s.rows() + "x" + s.inner() + ")ᵀ·" + s.rows() + "x" + s.cols();
                default -> s.rows() + "x" + s.cols();
            };
            StringBuilder ops = new StringBuilder();
            for (Operand o : s.operands()) ops.append(o == null ? "-" : o.toString()).append(' ');
            sb.append(String.format("%3d %-4s %-24s %-26s %-16s %12.3f  %s%s%n", s.index(), s.backward() ? "bwd" : "fwd", s.kernel(),
                    s.label(), shape, s.flops() / 1e6, ops.toString().trim(), s.accumulate() ? "  (+=)" : ""));
        }
        sb.append(String.format("params: %d floats in %d tensors (%s)%n", paramsSize, params.size(), kib(paramsSize)));
        sb.append(String.format("arena: %d floats (%s) with buffer reuse, %d floats (%s) without, %d buffers%n",
                arenaSizeReuse, kib(arenaSizeReuse), arenaSizeNoReuse, kib(arenaSizeNoReuse), buffers.size()));
        sb.append(String.format("work: %.3f MFLOP per call at batch %d%n", flops() / 1e6, batch));
        return sb.toString();
    }

    /**
     * The plan as a Graphviz DOT drawing: forward steps, parameters, the loss, and backward steps each
     * labelled with the gradient it carries; fan-out sums as their own nodes; one cluster per layer.
     * Render with {@code dot -Tsvg plan.dot -o plan.svg}.
     */
    public String toDot() { return DotExporter.export(this); }

    private static String kib(int floats) { return String.format("%.1f KiB", floats * 4 / 1024.0); }

    @Override
    public String toString() { return describe(); }
}
