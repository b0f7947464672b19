package dev.vgrad.compile;

import dev.vgrad.graph.Graph;
import dev.vgrad.kernel.Gemm;
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
    /** Per step: its lane (0 or 1) in a run of independent steps run side by side, else -1. */
    private final int[] lane;
    /** Per step: the end (exclusive) of the side-by-side run it starts, else 0. */
    private final int[] runEnd;
    /** Per step starting a side-by-side run: the FLOPs of its lighter lane at the compiled batch. */
    private final long[] runLighter;

    /** A side-by-side run's heavier lane holds at most this share of its FLOPs (else splitting each step is faster). */
    static final double LANE_BALANCE = 0.55;
    /**
     * The lighter lane holds at least this many FLOPs: what running it beside the other saves must exceed a dispatch to a
     * worker (about a microsecond; the threshold Gemm.worthSplitting uses for one GEMM).
     */
    static final long LANE_MIN_FLOPS = 1L << 18;
    /** The longest run looked for (keeps finding runs linear in the step count; a layer's backward is 2-3 steps). */
    static final int LANE_MAX_RUN = 16;

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
        this.lane = new int[this.steps.size()];
        this.runEnd = new int[this.steps.size()];
        this.runLighter = new long[this.steps.size()];
        planLanes();
    }

    /**
     * Finds runs of consecutive steps that are independent (none writes memory another reads or writes: the dW and the
     * dx product of a layer, and its bias gradient, all read dy and write apart) and splits each into two lanes of
     * about equal FLOPs, the heavier lane numbered 0. On two or more threads the executor runs the lanes side
     * by side, each step whole on its lane's threads, instead of splitting every step over all threads: no product
     * then packs an operand twice or waits for the other core. Each step computes the same bits either way.
     */
    private void planLanes() {
        java.util.Arrays.fill(lane, -1);
        int n = steps.size();
        for (int s = 0; s < n; s++) {
            int e = s;
            while (e < n && e - s < LANE_MAX_RUN && !steps.get(e).kind().isLoss()
                    && steps.get(e).backward() == steps.get(s).backward() && independentOfRun(e, s)) {
                e++;
            }
            if (e - s >= 2 && assignLanes(s, e)) {
                runEnd[s] = e;
                s = e - 1;
            }
        }
    }

    // step e against every step in [s, e)
    private boolean independentOfRun(int e, int s) {
        for (int t = s; t < e; t++) if (!independent(steps.get(t), steps.get(e))) return false;
        return true;
    }

    /** Neither step writes memory the other reads or writes. */
    static boolean independent(Step a, Step b) {
        return !writesInto(a, b) && !writesInto(b, a);
    }

    // whether a writes anything b reads or writes
    private static boolean writesInto(Step a, Step b) {
        Operand[] ao = a.operands(), bo = b.operands();
        for (int w : a.kind().writtenOperands()) {
            if (w >= ao.length || ao[w] == null) continue;
            for (Operand o : bo) {
                if (o != null && o.space() == ao[w].space() && o.offset() < ao[w].offset() + ao[w].size()
                        && ao[w].offset() < o.offset() + o.size()) {
                    return true;
                }
            }
        }
        return false;
    }

    // the steps [s, e) into two lanes (lanes()); kept if balanced and worth a dispatch
    private boolean assignLanes(int s, int e) {
        long[] flops = new long[e - s];
        for (int i = 0; i < flops.length; i++) flops[i] = steps.get(s + i).flops();
        int[] l = new int[flops.length];
        long lighter = lanes(flops, l);
        if (lighter < 0) return false;
        System.arraycopy(l, 0, lane, s, l.length);
        runLighter[s] = lighter;
        return true;
    }

    /**
     * Puts work items of the given FLOPs into two lanes, heaviest first, each into the lane with less so far, then
     * numbers the heavier lane 0. Writes each item's lane to {@code lanes} and returns the lighter lane's FLOPs, or -1
     * (lanes untouched) when the heavier lane holds more than {@link #LANE_BALANCE} of the total or the lighter less
     * than {@link #LANE_MIN_FLOPS}.
     */
    static long lanes(long[] flops, int[] lanes) {
        Integer[] order = new Integer[flops.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Long.compare(flops[y], flops[x]));
        int[] l = new int[flops.length];
        long[] load = new long[2];
        for (int t : order) {
            int to = load[1] < load[0] ? 1 : 0;
            l[t] = to;
            load[to] += flops[t];
        }
        long total = load[0] + load[1], heavier = Math.max(load[0], load[1]), lighter = Math.min(load[0], load[1]);
        if (heavier > LANE_BALANCE * total || lighter < LANE_MIN_FLOPS) return -1;
        boolean swap = load[1] > load[0];
        for (int t = 0; t < l.length; t++) lanes[t] = swap ? 1 - l[t] : l[t];
        return lighter;
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

    /**
     * The lane (0 or 1) of step {@code step} when it belongs to a run of independent steps that runs side by side on two
     * or more threads (lane 0, the heavier, gets the larger half of the threads), else -1.
     */
    public int lane(int step) { return lane[step]; }

    /** For the first step of a side-by-side run: the end of the run (exclusive); for any other step 0. */
    public int runEnd(int step) { return runEnd[step]; }

    /**
     * Whether the side-by-side run starting at {@code step} is worth its dispatch on {@code rows} rows: its lighter lane,
     * scaled from the compiled batch, still holds {@value #LANE_MIN_FLOPS} FLOPs (a partial batch of a few rows runs its
     * steps one after another, each split as its size allows).
     */
    public boolean sideBySide(int step, int rows) {
        return runEnd[step] != 0 && runLighter[step] * rows >= LANE_MIN_FLOPS * batch;
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
        sb.append(String.format("%3s %-4s %-24s %-22s %-26s %-16s %12s  %s%n", "#", "pass", "kernel", "gemm path", "node", "shape", "MFLOP",
                "operands (name@space offset)"));
        for (Step s : steps) {
            String shape = switch (s.kind()) {
                case DENSE -> s.rows() + "x" + s.inner() + "·" + s.inner() + "x" + s.cols();
                case GEMM_NT -> s.rows() + "x" + s.inner() + "·(" + s.cols() + "x" + s.inner() + ")ᵀ";
                case GEMM_TN -> "(" + s.rows() + "x" + s.inner() + ")ᵀ·" + s.rows() + "x" + s.cols();
                default -> s.rows() + "x" + s.cols();
            };
            StringBuilder ops = new StringBuilder();
            for (Operand o : s.operands()) ops.append(o == null ? "-" : o.toString()).append(' ');
            sb.append(String.format("%3d %-4s %-24s %-22s %-26s %-16s %12.3f  %s%s%n", s.index(), s.backward() ? "bwd" : "fwd", s.kernel(),
                    gemmPath(s, batch), s.label(), shape, s.flops() / 1e6, ops.toString().trim(), s.accumulate() ? "  (+=)" : ""));
        }
        for (int st = 0; st < steps.size(); st++) {
            if (runEnd[st] == 0) continue;
            StringBuilder l0 = new StringBuilder(), l1 = new StringBuilder();
            for (int t = st; t < runEnd[st]; t++) {
                StringBuilder l = lane[t] == 0 ? l0 : l1;
                if (!l.isEmpty()) l.append(' ');
                l.append(t);
            }
            sb.append(String.format("side by side on 2+ threads: steps %d-%d, lane 0: %s | lane 1: %s%n", st, runEnd[st] - 1, l0, l1));
        }
        sb.append(String.format("params: %d floats in %d tensors (%s)%n", paramsSize, params.size(), kib(paramsSize)));
        sb.append(String.format("arena: %d floats (%s) with buffer reuse, %d floats (%s) without, %d buffers%n",
                arenaSizeReuse, kib(arenaSizeReuse), arenaSizeNoReuse, kib(arenaSizeNoReuse), buffers.size()));
        sb.append(String.format("work: %.3f MFLOP per call at batch %d%n", flops() / 1e6, batch));
        return sb.toString();
    }

    /**
     * Which path of the GEMM family a GEMM step takes on {@code rows} rows ({@code Gemm.path}: narrow, short k, small
     * M, blocked, or scalar without SIMD), "-" for other steps.
     */
    public static String gemmPath(Step s, int rows) {
        int form = switch (s.kind()) {
            case DENSE -> Gemm.NN;
            case GEMM_NT -> Gemm.NT;
            case GEMM_TN -> Gemm.TN;
            default -> -1;
        };
        return form < 0 ? "-" : Gemm.path(form, s.gemmM(rows), s.cols(), s.gemmK(rows), s.accumulate()).label;
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
