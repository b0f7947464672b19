package dev.vgrad.runtime;

import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Step;
import dev.vgrad.compile.StepKind;
import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Activations;
import dev.vgrad.kernel.Bias;
import dev.vgrad.kernel.Elementwise;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.GemmEpilogue;
import dev.vgrad.kernel.GemmWorkspace;
import dev.vgrad.kernel.Losses;
import dev.vgrad.kernel.Softmax;

/**
 * Runs a plan's steps over a parameter array, a gradient array and an arena. One executor per thread:
 * it holds the arrays it was given (parameters may be shared read-only between executors of forward-only
 * plans), its GEMM scratch, the caller's array an input is read from in place ({@link #bindInput}; the arena
 * slot otherwise), and the step or run being handed to the worker threads.
 *
 * <p>GEMM steps (dense forward with its bias + activation epilogue fused, and the two backward
 * forms) run through one {@link SplitGemm}, which splits each over {@link #threads()} threads of the engine's
 * {@link WorkerPool} (static parts, or chunks claimed by free threads; a product split by columns runs its epilogue
 * apart, after the parts, split by rows), every part packing into its own {@link GemmWorkspace}, allocated once, sized
 * from the plan's largest GEMM. The optimizer's update ({@code Trainer}) uses the same pool.
 * Results are bitwise identical for every thread count (the split is over rows or columns of C only).
 *
 * <p>A run of independent steps the plan put in two lanes ({@link Plan#lane}: a layer's dW and dx products and its
 * bias gradient) runs side by side on two or more threads: lane 0 on the larger half of the threads, lane 1 on the
 * rest, each step split over its lane's threads only. Every step computes the same bits as when run alone.
 */
public final class Executor {
    private final Plan plan;
    private final Step[] steps;
    private final float[] params;
    private final float[] grads;
    private final float[] arena;
    /** One epilogue per step: bias + activation of DENSE steps, a fused activation derivative of GEMM_NT steps, else null. */
    private final GemmEpilogue[] epilogues;
    /** The largest GEMM of the plan (m, n, k taken separately): sizes the workspaces. */
    private final int maxM, maxN, maxK;
    /** Every GEMM step runs through it: split over the threads, one packing workspace a part. */
    private SplitGemm split;
    /** The operand of each plan input, by name (every step that reads an input shares its operand). */
    private final java.util.Map<String, Operand> inputOperands = new java.util.HashMap<>();
    // an input read from the caller's array (bindInput), or null
    private Operand boundInput;
    private float[] boundData;
    // the side-by-side run being dispatched: steps [laneFrom, laneTo) on laneRows rows
    private final WorkerPool.Task laneTask = this::lanePart;
    private int laneFrom, laneTo, laneRows;
    private long sideBySideRuns;
    // times forward's and backward's steps when set
    private StepTimer timer;

    /** The default thread count: {@code -Dvgrad.threads=N}, else the available processors. */
    public static int defaultThreads() {
        return Math.max(1, Integer.getInteger("vgrad.threads", Runtime.getRuntime().availableProcessors()));
    }

    public Executor(Plan plan, float[] params, float[] grads, float[] arena) {
        this(plan, params, grads, arena, defaultThreads());
    }

    /** An executor splitting each GEMM over {@code threads} threads (1 = the calling thread only). */
    public Executor(Plan plan, float[] params, float[] grads, float[] arena, int threads) {
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
        this.epilogues = new GemmEpilogue[steps.length];
        for (Step st : steps) {
            for (Operand o : st.operands()) {
                if (o != null && o.space() == dev.vgrad.compile.Space.ARENA && plan.inputs().containsKey(o.name())
                        && plan.inputs().get(o.name()).offset() == o.offset()) {
                    inputOperands.put(o.name(), o);
                }
            }
        }
        int mm = 1, nn = 1, kk = 1;
        for (Step st : steps) {
            switch (st.kind()) {
                case DENSE -> {
                    Operand[] o = st.operands();
                    epilogues[st.index()] = new GemmEpilogue(o[2] == null ? null : a(o[2]), o[2] == null ? 0 : off(o[2]),
                            st.activation(), st.alpha(), o[4] == null ? null : a(o[4]), o[4] == null ? 0 : off(o[4]));
                    mm = Math.max(mm, st.rows()); nn = Math.max(nn, st.cols()); kk = Math.max(kk, st.inner());
                }
                case GEMM_NT -> {
                    Operand[] o = st.operands();
                    if (st.activation() != Activation.IDENTITY) {
                        epilogues[st.index()] = GemmEpilogue.derivative(st.activation(), st.alpha(), a(o[3]), off(o[3]));
                    }
                    mm = Math.max(mm, st.rows()); nn = Math.max(nn, st.cols()); kk = Math.max(kk, st.inner());
                }
                case GEMM_TN -> { mm = Math.max(mm, st.inner()); nn = Math.max(nn, st.cols()); kk = Math.max(kk, st.rows()); }
                default -> { }
            }
        }
        this.maxM = mm;
        this.maxN = nn;
        this.maxK = kk;
        setThreads(threads);
    }

    /** How many runs of independent steps ran side by side ({@link Plan#lane}) so far: a diagnostic for tests and probes. */
    public long sideBySideRuns() { return sideBySideRuns; }

    /** How many GEMMs ran as chunks claimed by free threads ({@link Gemm#chunks}) so far: a diagnostic for tests and probes. */
    public long chunkedRuns() { return split.chunkedRuns(); }

    /** Threads each GEMM is split over (a step of a side-by-side run: its lane's share of them). */
    public int threads() { return split.threads(); }

    /**
     * Changes the thread count (allocates workspaces and starts pool workers as needed: call between
     * steps, not per step). Results do not depend on it.
     */
    public void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (split == null) split = new SplitGemm(maxM, maxN, maxK, threads);
        else split.setThreads(threads);
    }

    /**
     * The plan ({@link Plan#describe}) and how this executor runs it on {@link #threads()} threads at the compiled
     * batch: each GEMM step's split ({@link SplitGemm#describe}: one thread, static parts or chunks, by rows or columns,
     * an epilogue apart) and the runs of steps that go side by side, with each lane's threads.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder(plan.describe());
        int rows = plan.batch(), threads = split.threads();
        sb.append(String.format("on %d thread%s (the caller and %d pool worker%s):%n", threads, threads == 1 ? "" : "s", threads - 1,
                threads == 2 ? "" : "s"));
        for (int s = 0; s < steps.length; s++) {
            Step st = steps[s];
            if (threads >= 2 && plan.sideBySide(s, rows)) {
                int end = plan.runEnd(s), t0 = laneZeroParts(threads);
                sb.append(String.format("  steps %d-%d side by side: lane 0 on %d thread%s, lane 1 on %d%n", s, end - 1, t0,
                        t0 == 1 ? "" : "s", threads - t0));
                for (int t = s; t < end; t++) {
                    int lt = plan.lane(t) == 0 ? t0 : threads - t0;
                    Step g = steps[t];
                    if (g.kind().isGemm()) {
                        sb.append(String.format("  %3d %-26s lane %d: %s%n", t, g.label(), plan.lane(t),
                                SplitGemm.describeParts(form(g), g.gemmM(rows), g.cols(), g.gemmK(rows), beta(g), lt)));
                    }
                }
                s = end - 1;
            } else if (st.kind().isGemm()) {
                sb.append(String.format("  %3d %-26s %s%n", s, st.label(), SplitGemm.describe(form(st), st.gemmM(rows), st.cols(),
                        st.gemmK(rows), beta(st), epilogues[st.index()], threads)));
            }
        }
        return sb.toString();
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
            if (!st.kind().isLoss()) {
                s = timedRunFrom(s, rows);
            } else if (withLoss) {
                long t0 = timer == null ? 0 : System.nanoTime();
                loss = run(st, rows);
                if (timer != null) timer.record(s, s + 1, rows, System.nanoTime() - t0);
            }
        }
        return loss;
    }

    /** Runs the backward steps (after a forward with the loss): parameter gradients are overwritten. */
    public void backward(int rows) {
        for (int s = plan.forwardSteps(); s < steps.length; s++) s = timedRunFrom(s, rows);
    }

    // runFrom, timed into the timer when one is set
    private int timedRunFrom(int s, int rows) {
        if (timer == null) return runFrom(s, rows);
        long t0 = System.nanoTime();
        int last = runFrom(s, rows);
        timer.record(s, last + 1, rows, System.nanoTime() - t0);
        return last;
    }

    /**
     * Times each step {@link #forward} and {@link #backward} run from now on into {@code timer} (sized for this plan's
     * steps), or stops timing with null. Timing costs two clock reads a step and allocates nothing.
     */
    public void setTimer(StepTimer timer) {
        if (timer != null && timer.steps() != steps.length) {
            throw new IllegalArgumentException("the timer has room for " + timer.steps() + " steps, the plan has " + steps.length);
        }
        this.timer = timer;
    }

    /** The timer set by {@link #setTimer}, or null. */
    public StepTimer timer() { return timer; }

    // step s, or the side-by-side run it starts (on 2+ threads); returns the last step run
    private int runFrom(int s, int rows) {
        if (split.threads() < 2 || !plan.sideBySide(s, rows)) {
            run(steps[s], rows);
            return s;
        }
        int end = plan.runEnd(s);
        sideBySideRuns++;
        laneFrom = s;
        laneTo = end;
        laneRows = rows;
        WorkerPool.common().run(laneTask, split.threads());
        return end - 1;
    }

    // the parts lane 0 (the heavier) of a side-by-side run takes of parts: the larger half; lane 1 takes the rest
    private static int laneZeroParts(int parts) { return (parts + 1) / 2; }

    // part of parts of a side-by-side run: lane 0 takes parts [0, ceil(parts / 2)), lane 1 the rest; each GEMM of a lane
    // is split over the lane's parts (each part packing into its own workspace), any other step runs on the lane's first
    private void lanePart(int part, int parts) {
        int parts0 = laneZeroParts(parts);
        int lane = part < parts0 ? 0 : 1;
        int lp = lane == 0 ? part : part - parts0, lps = lane == 0 ? parts0 : parts - parts0;
        for (int s = laneFrom; s < laneTo; s++) {
            if (plan.lane(s) != lane) continue;
            Step st = steps[s];
            if (st.kind().isGemm()) {
                if (worthSplitting(st, laneRows, lps)) gemmSlice(st, laneRows, split.workspace(part), lp, lps);
                else if (lp == 0) gemmSlice(st, laneRows, split.workspace(part), 0, 1);
            } else if (lp == 0) {
                run(st, laneRows);
            }
        }
    }

    /**
     * Part 0's packing workspace (the one the caller's own thread packs into), sized for the plan's largest GEMM: for
     * a product run beside this executor on the same thread, never while {@link #run} or a step is running.
     */
    public GemmWorkspace workspace() { return split.workspace(0); }

    /** Runs one step on {@code rows} rows; returns the loss for a loss step, 0 otherwise. */
    public double run(Step st, int rows) {
        int c = st.cols(), k = st.inner();
        Operand[] o = st.operands();
        switch (st.kind()) {
            case DENSE, GEMM_NT, GEMM_TN -> gemm(st, rows);
            case ACTIVATION -> Activations.forward(st.activation(), st.alpha(), a(o[0]), off(o[0]), a(o[1]), off(o[1]), rows * c);
            case SOFTMAX -> Softmax.forward(rows, c, a(o[0]), off(o[0]), a(o[1]), off(o[1]));
            case ADD -> Elementwise.add(a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(o[2]), off(o[2]), rows * c);
            case MUL -> Elementwise.mul(a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(o[2]), off(o[2]), rows * c);
            case LOSS_SOFTMAX_CROSS_ENTROPY -> {
                return Losses.softmaxCrossEntropy(rows, c, a(o[0]), off(o[0]), a(o[1]), off(o[1]),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : off(o[2]));
            }
            case LOSS_MSE -> {
                return Losses.mse(rows * c, a(o[0]), off(o[0]), a(o[1]), off(o[1]),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : off(o[2]));
            }
            case LOSS_BCE_WITH_LOGITS -> {
                return Losses.bceWithLogits(rows * c, a(o[0]), off(o[0]), a(o[1]), off(o[1]),
                        o[2] == null ? null : a(o[2]), o[2] == null ? 0 : off(o[2]));
            }
            case ACTIVATION_BACKWARD -> Activations.backward(st.activation(), st.alpha(), a(o[0]), off(o[0]), a(o[1]), off(o[1]),
                    a(o[2]), off(o[2]), rows * c, st.accumulate());
            case SOFTMAX_BACKWARD -> Softmax.backward(rows, c, a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(o[2]), off(o[2]),
                    st.accumulate());
            case COL_SUM -> Bias.colSum(rows, c, a(o[0]), off(o[0]), a(o[1]), off(o[1]), st.accumulate());
            case ACCUMULATE -> Elementwise.accumulate(a(o[0]), off(o[0]), a(o[1]), off(o[1]), rows * c, st.accumulate());
            case MUL_ACCUMULATE -> Elementwise.mulAccumulate(a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(o[2]), off(o[2]),
                    rows * c, st.accumulate());
        }
        return 0;
    }

    // a GEMM step: split over the threads when it is large enough (SplitGemm: static parts or chunks, a column split's
    // epilogue run apart)
    private void gemm(Step st, int rows) {
        Operand[] o = st.operands();
        Operand c = output(st);
        split.run(form(st), st.gemmM(rows), st.cols(), st.gemmK(rows), a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(c), off(c),
                beta(st), epilogues[st.index()]);
    }

    // Gemm.worthSplitting for a GEMM step on rows rows
    private static boolean worthSplitting(Step st, int rows, int parts) {
        return Gemm.worthSplitting(st.gemmM(rows), st.cols(), st.gemmK(rows), parts);
    }

    // whether a GEMM step adds into its output (a DENSE step overwrites it)
    private static boolean beta(Step st) {
        return st.kind() != StepKind.DENSE && st.accumulate();
    }

    // the operand a GEMM step writes: DENSE's y (operands x, W, b, y, z), GEMM_NT's and GEMM_TN's third
    private static Operand output(Step st) {
        return st.operands()[st.kind() == StepKind.DENSE ? 3 : 2];
    }

    // the product form of a GEMM step
    private static int form(Step st) {
        return switch (st.kind()) {
            case DENSE -> Gemm.NN;
            case GEMM_NT -> Gemm.NT;
            case GEMM_TN -> Gemm.TN;
            default -> throw new IllegalStateException("not a GEMM step: " + st.kind());
        };
    }

    // part of parts of one GEMM step of a side-by-side lane (its epilogue fused), packing into ws: DENSE y = act(x W + b),
    // GEMM_NT dx = dy Wᵀ (times act'(v) when an activation's derivative is fused), GEMM_TN dW = xᵀ dy
    private void gemmSlice(Step st, int rows, GemmWorkspace ws, int part, int parts) {
        Operand[] o = st.operands();
        Operand c = output(st);
        Gemm.run(form(st), st.gemmM(rows), st.cols(), st.gemmK(rows), a(o[0]), off(o[0]), a(o[1]), off(o[1]), a(c), off(c),
                beta(st), epilogues[st.index()], ws, part, parts);
    }

    /**
     * Reads the plan's input {@code name} from the caller's array from now on (row-major from index 0, at least as
     * long as the rows run), instead of from its slot in the arena: no copy of the batch. The caller keeps the array
     * unchanged while steps run; {@link #unbindInput} goes back to the arena slot. Returns false, binding nothing,
     * when no step reads that input (a graph whose output is an input the loss does not use, say).
     */
    public boolean bindInput(String name, float[] data) {
        java.util.Objects.requireNonNull(data, "data");
        Operand o = inputOperands.get(name);
        if (o == null) {
            unbindInput();
            return false;
        }
        boundInput = o;
        boundData = data;
        return true;
    }

    /** The input reads its arena slot again. */
    public void unbindInput() {
        boundInput = null;
        boundData = null;
    }

    private int off(Operand o) {
        return o == boundInput ? 0 : o.offset();
    }

    private float[] a(Operand o) {
        if (o == boundInput) return boundData;
        return switch (o.space()) {
            case PARAMS -> params;
            case GRADS -> grads;
            case ARENA -> arena;
        };
    }
}
