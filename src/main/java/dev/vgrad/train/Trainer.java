package dev.vgrad.train;

import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Op;
import dev.vgrad.kernel.Finite;
import dev.vgrad.kernel.Optimizers;
import dev.vgrad.kernel.Simd;
import dev.vgrad.runtime.Executor;
import dev.vgrad.runtime.StepTimer;
import dev.vgrad.runtime.WorkerPool;
import dev.vgrad.runtime.Predictor;

/**
 * Trains a compiled graph: {@link #step} runs forward, loss, backward and the optimizer update on
 * flat arrays allocated once here. Neither {@code step} nor {@code forward} allocates.
 *
 * <p>Every call validates its inputs (lengths, row count, finite values, label range) before doing
 * any work, so a rejected call leaves the parameters and optimizer state unchanged. Not thread-safe:
 * one trainer per thread (serving uses {@code Predictor}).
 */
public final class Trainer {
    private final Plan plan;
    private final float[] params;
    private final float[] grads;
    private final float[] arena;
    private final float[] state1;
    private final float[] state2;
    private final Executor executor;
    private final Slot input;
    private final Slot labels;
    private final Slot targets;
    private final int classes;
    private Optimizer optimizer;
    private long updates;
    private final Telemetry telemetry;
    private final DivergenceGuard divergence;
    /** Steps run (a step retried after a backoff counts once); telemetry and divergence number steps with it. */
    private long steps;
    /** Set by {@link #run} when the divergence guard restored an earlier state: the batch runs again. */
    private boolean retry;

    /** Compiles {@code graph} for training and initialises its parameters from {@code seed}. */
    public Trainer(Graph graph, Optimizer optimizer, long seed) {
        this(Compiler.compile(graph, CompileOptions.defaults()), optimizer, seed);
    }

    public Trainer(Plan plan, Optimizer optimizer, long seed) {
        if (!plan.training()) throw new IllegalArgumentException("a Trainer needs a training plan, got a forward-only one");
        this.plan = plan;
        this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
        this.params = new float[plan.paramsSize()];
        this.grads = new float[plan.paramsSize()];
        this.arena = new float[Math.max(1, plan.arenaSize())];
        this.state1 = new float[plan.paramsSize()];
        this.state2 = new float[plan.paramsSize()];
        this.executor = new Executor(plan, params, grads, arena);
        Initializers.initialize(plan, params, seed);
        Slot in = null, lab = null, tgt = null;
        for (Slot s : plan.inputs().values()) {
            if (s.node().op() == Op.INPUT && in == null) in = s;
            if (s.node().op() == Op.LABELS) lab = s;
            if (s.node().op() == Op.TARGETS) tgt = s;
        }
        this.input = in;
        this.labels = lab;
        this.targets = tgt;
        this.classes = lab == null ? 0 : plan.graph().loss().input(0).shape().cols();
        this.telemetry = new Telemetry(plan);
        this.divergence = new DivergenceGuard(this);
    }

    /** Per-layer telemetry (on by default, sampled every {@value Telemetry#DEFAULT_INTERVAL} steps). */
    public Telemetry telemetry() { return telemetry; }

    /** Divergence detection (default: stop with a {@link DivergenceException}). */
    public DivergenceGuard divergence() { return divergence; }

    /** Training steps run so far (0-based index of the next step). */
    public long steps() { return steps; }

    /** Sets the step counter telemetry and divergence number steps with, e.g. when resuming (updates: {@link #setUpdates}). */
    public void setSteps(long s) {
        if (s < 0) throw new IllegalArgumentException("steps must be >= 0, got " + s);
        this.steps = s;
    }

    public Plan plan() { return plan; }
    public Optimizer optimizer() { return optimizer; }
    public float learningRate() { return optimizer.learningRate(); }
    /** Changes the learning rate for the next steps (state is kept). */
    public void setLearningRate(float lr) { this.optimizer = optimizer.withLearningRate(lr); }
    /** Optimizer updates applied so far (Adam's t). */
    public long updates() { return updates; }
    /** The compiled batch: the most rows one step takes. */
    public int batch() { return plan.batch(); }
    /** Threads each matrix product is split over (default: the available processors; see {@link dev.vgrad.compile.Plan#lane}). */
    public int threads() { return executor.threads(); }
    /** Sets the thread count (results are bitwise identical for every count); call between steps. */
    public void setThreads(int threads) { executor.setThreads(threads); }

    // ---- training ----

    /**
     * One step on a full or partial batch of rows = labels.length. Returns the mean loss before the update. Like
     * {@code loss}, {@code gradients} and {@code forward}, it reads x in place (no copy): x must not change while the
     * call runs.
     */
    public double step(float[] x, int[] labels) { return step(x, labels, labels == null ? plan.batch() : labels.length); }

    /** One step on the first {@code rows} rows of x and labels (rows <= the compiled batch). */
    public double step(float[] x, int[] labels, int rows) {
        StepTimer timed = timer;
        long t0 = timed == null ? 0 : System.nanoTime();
        double loss;
        do {
            feedInput(x, rows);
            feedLabels(labels, rows);
            loss = run(rows);
        } while (retry);
        if (timed != null) profiled(timed, rows, t0);
        return loss;
    }

    /** One step for a regression-style loss (mse, bce-with-logits) with float targets. */
    public double step(float[] x, float[] targets, int rows) {
        StepTimer timed = timer;
        long t0 = timed == null ? 0 : System.nanoTime();
        double loss;
        do {
            feedInput(x, rows);
            feedTargets(targets, rows);
            loss = run(rows);
        } while (retry);
        if (timed != null) profiled(timed, rows, t0);
        return loss;
    }

    /** Mean loss on the rows without updating anything (validation). */
    public double loss(float[] x, int[] labels, int rows) {
        feedInput(x, rows);
        feedLabels(labels, rows);
        return executor.forward(rows, true);
    }

    /** Mean loss with float targets, without updating anything. */
    public double loss(float[] x, float[] targets, int rows) {
        feedInput(x, rows);
        feedTargets(targets, rows);
        return executor.forward(rows, true);
    }

    /** Forward, loss and backward without the update: afterwards {@link #grad} reads dL/dparam. Returns the loss. */
    public double gradients(float[] x, int[] labels, int rows) {
        feedInput(x, rows);
        feedLabels(labels, rows);
        double loss = executor.forward(rows, true);
        executor.backward(rows);
        return loss;
    }

    /** As {@link #gradients(float[], int[], int)} with float targets. */
    public double gradients(float[] x, float[] targets, int rows) {
        feedInput(x, rows);
        feedTargets(targets, rows);
        double loss = executor.forward(rows, true);
        executor.backward(rows);
        return loss;
    }

    private double run(int rows) {
        // only training steps' plan steps are profiled, not loss(), forward() or gradients() between them
        if (timer != null) executor.setTimer(timer);
        try {
            double loss = executor.forward(rows, true);
            // divergence: checked before anything is updated; a backoff restored an earlier state, so run the batch again
            retry = divergence.check(loss, steps);
            if (retry) return loss;
            long step = steps;
            boolean sample = telemetry.begin(step);
            if (sample) telemetry.activations(arena, rows);
            executor.backward(rows);
            long u0 = timer == null ? 0 : System.nanoTime();
            update();
            if (timer != null) profiledUpdate(System.nanoTime() - u0);
            // the update is applied, so the step counts before telemetry calls out: a listener that throws cannot leave it behind
            steps++;
            if (sample) telemetry.finish(step);
            return loss;
        } finally {
            executor.setTimer(null);
        }
    }

    // ---- profiling ----

    // set between startProfile and stopProfile: the plan steps' times; and the training steps' and updates' own
    private StepTimer timer;
    private long profSteps, profRows, profStepNanos, profMinStep, profUpdateNanos, profMinUpdate;

    private void profiledUpdate(long nanos) {
        profUpdateNanos += nanos;
        profMinUpdate = Math.min(profMinUpdate, nanos);
    }

    // a training step that began at t0 with `timed` as the profile's timer: counted unless that profile ended meanwhile
    private void profiled(StepTimer timed, int rows, long t0) {
        if (timer != timed) return;
        long n = System.nanoTime() - t0;
        profSteps++;
        profRows += rows;
        profStepNanos += n;
        profMinStep = Math.min(profMinStep, n);
    }

    /**
     * Starts timing the training steps that follow, each step of the plan and the update apart (a profile under way
     * starts again, empty). Costs a few clock reads a step and allocates nothing once started; {@link #stopProfile}
     * ends it.
     */
    public void startProfile() {
        if (timer == null) timer = new StepTimer(plan.steps().size());
        else timer.reset();
        profSteps = profRows = profStepNanos = profUpdateNanos = 0;
        profMinStep = profMinUpdate = Long.MAX_VALUE;
    }

    /** Whether a profile is under way. */
    public boolean profiling() { return timer != null; }

    /** Ends the profile {@link #startProfile} began and returns it. */
    public StepProfile stopProfile() {
        if (!profiling()) throw new IllegalStateException("no profile under way: call startProfile() first");
        int parts = updateParts();
        StepProfile p = new StepProfile(plan, executor.threads(), String.format("%s, %d part%s", optimizer.getClass().getSimpleName().toLowerCase(),
                parts, parts == 1 ? "" : "s"), profSteps, profRows, profStepNanos, profMinStep, profUpdateNanos, profMinUpdate, timer);
        timer = null;
        return p;
    }

    /**
     * Runs {@code steps} training steps on the same batch (x and labels as for {@link #step(float[], int[])}), timed step
     * by step, and returns their profile (a profile under way is replaced). They are real steps: the weights move as in
     * any other. If a step fails, the profile ends and the failure is thrown.
     */
    public StepProfile profile(float[] x, int[] labels, int steps) {
        return profile(steps, () -> step(x, labels));
    }

    /** {@link #profile(float[], int[], int)} for a regression-style loss with float targets, on whole batches. */
    public StepProfile profile(float[] x, float[] targets, int steps) {
        return profile(steps, () -> step(x, targets, plan.batch()));
    }

    private StepProfile profile(int steps, Runnable step) {
        if (steps < 1) throw new IllegalArgumentException("steps to profile must be >= 1, got " + steps);
        startProfile();
        try {
            for (int i = 0; i < steps; i++) step.run();
        } catch (RuntimeException | Error e) {
            timer = null;
            throw e;
        }
        if (!profiling()) throw new IllegalStateException("the profile was stopped while its steps ran (stopProfile from a listener?)");
        return stopProfile();
    }

    /**
     * Applies the optimizer to the current gradients: one vectorized kernel over all parameters, split over
     * the executor's threads when there are at least {@value #PARALLEL_UPDATE} parameters per thread. The
     * update is element-wise and the split points are whole vectors, so every element takes the same
     * path and the result is bitwise the same for any thread count.
     */
    public void update() {
        if (telemetry.observing()) {
            observedUpdate();
            return;
        }
        updates++;
        int parts = updateParts();
        if (parts > 1) WorkerPool.common().run(updateTask, parts);
        else updatePart(0, 1);
    }

    // the parts the update is split into: the threads, at least PARALLEL_UPDATE parameters each
    private int updateParts() { return Math.max(1, Math.min(executor.threads(), params.length / PARALLEL_UPDATE)); }

    /** Parameters per thread below which the update stays on the calling thread (a dispatch costs about a microsecond). */
    static final int PARALLEL_UPDATE = 1 << 15;

    private final WorkerPool.Task updateTask = this::updatePart;

    // the update of parameters [from, to): split points are multiples of the vector length
    private void updatePart(int part, int parts) {
        int n = params.length, lanes = Simd.LANES;
        int from = part == 0 ? 0 : (int) ((long) n * part / parts) / lanes * lanes;
        int to = part == parts - 1 ? n : (int) ((long) n * (part + 1) / parts) / lanes * lanes;
        int len = to - from;
        switch (optimizer) {
            case Optimizer.Sgd s -> Optimizers.sgd(len, grads, from, s.learningRate(), s.momentum(), s.nesterov(), s.weightDecay(),
                    state1, from, params, from);
            case Optimizer.Adam a -> Optimizers.adam(len, grads, from, a.learningRate(), a.beta1(), a.beta2(), a.eps(), a.weightDecay(),
                    false, corr(a.beta1()), corr(a.beta2()), state1, from, state2, from, params, from);
            case Optimizer.AdamW a -> Optimizers.adam(len, grads, from, a.learningRate(), a.beta1(), a.beta2(), a.eps(), a.weightDecay(),
                    true, corr(a.beta1()), corr(a.beta2()), state1, from, state2, from, params, from);
        }
    }

    /** The same update, one parameter tensor at a time, summing each layer's telemetry in the same pass. */
    private void observedUpdate() {
        updates++;
        double[] st = telemetry.stats();
        for (int i = 0; i < telemetry.segments(); i++) {
            int off = telemetry.segmentOffset(i), n = telemetry.segmentSize(i), s = telemetry.segmentStats(i);
            switch (optimizer) {
                case Optimizer.Sgd o -> Optimizers.sgdObserved(n, grads, off, o.learningRate(), o.momentum(), o.nesterov(),
                        o.weightDecay(), state1, off, params, off, st, s);
                case Optimizer.Adam a -> Optimizers.adamObserved(n, grads, off, a.learningRate(), a.beta1(), a.beta2(), a.eps(),
                        a.weightDecay(), false, corr(a.beta1()), corr(a.beta2()), state1, off, state2, off, params, off, st, s);
                case Optimizer.AdamW a -> Optimizers.adamObserved(n, grads, off, a.learningRate(), a.beta1(), a.beta2(), a.eps(),
                        a.weightDecay(), true, corr(a.beta1()), corr(a.beta2()), state1, off, state2, off, params, off, st, s);
            }
        }
    }

    private float corr(float beta) { return (float) (1.0 - Math.pow(beta, updates)); }

    // ---- prediction ----

    /** The model output (e.g. logits) for a full batch of x into out (batch x outputs). */
    public void forward(float[] x, float[] out) { forward(x, plan.batch(), out); }

    /** The model output for the first rows of x into out. */
    public void forward(float[] x, int rows, float[] out) {
        Slot o = plan.output();
        int need = rows * o.shape().cols();
        if (out == null || out.length < need) {
            throw new IllegalArgumentException("forward: output '" + o.name() + "' needs " + rows + " x " + o.shape().cols() + " = " + need
                    + " floats, got " + (out == null ? "null" : out.length));
        }
        feedInput(x, rows);
        executor.forward(rows, false);
        System.arraycopy(arena, o.offset(), out, 0, need);
    }

    /**
     * A thread-safe, allocation-free predictor for serving, with a copy of the current parameters (later
     * training does not change it). Its outputs are bitwise those of {@link #forward}.
     */
    public Predictor predictor() { return Predictor.of(plan, params); }

    /** As {@link #predictor()} with serving options (e.g. input checks, bf16 weights). */
    public Predictor predictor(Predictor.Options options) { return Predictor.of(plan, params, options); }

    // ---- inputs ----

    /**
     * Copies rows of an input into the arena after checking length and finiteness (a copy: the array may change
     * afterwards). {@code step}, {@code loss} and {@code gradients} read their batch in place instead.
     */
    public void feed(String name, float[] data, int rows) {
        Slot s = plan.input(name);
        check(s, data, rows);
        if (s == input) executor.unbindInput();
        copyIn(s, data, rows);
    }

    /** The first rows of data into the slot's place in the arena. */
    private void copyIn(Slot s, float[] data, int rows) {
        System.arraycopy(data, 0, arena, s.offset(), rows * s.shape().cols());
    }

    /**
     * The batch of {@code step}, {@code loss}, {@code gradients} and {@code forward}, checked, then read by the plan
     * from x itself, not copied: the copy of 128 x 784 floats cost 23-34 us a step on one thread and 37-57 us on two,
     * whose other core read those arena lines last. x is only read; the executor keeps the reference until the next
     * such call binds another array.
     */
    private void feedInput(float[] x, int rows) {
        if (input == null) throw new IllegalStateException("the graph has no input");
        check(input, x, rows);
        boolean bound = executor.bindInput(input.name(), x);
        // an input no step reads, or a graph whose output is its input: copied, for forward() to read back
        if (!bound || plan.output().offset() == input.offset()) copyIn(input, x, rows);
    }

    private void check(Slot s, float[] data, int rows) {
        checkRows(rows);
        int cols = s.shape().cols();
        int need = rows * cols;
        if (data == null) throw new IllegalArgumentException("input '" + s.name() + "' is null");
        if (data.length < need) {
            throw new IllegalArgumentException("input '" + s.name() + "' needs " + rows + " rows x " + cols + " = " + need
                    + " floats, got " + data.length);
        }
        // by vectors: the scalar loop took 30 us of each step for a batch of 128 x 784 (5 us so), all of it on one thread
        int i = Finite.firstNonFinite(data, 0, need);
        if (i >= 0) {
            throw new IllegalArgumentException("input '" + s.name() + "' has a non-finite value " + data[i] + " at row " + (i / cols)
                    + ", column " + (i % cols));
        }
    }

    private void feedLabels(int[] y, int rows) {
        if (labels == null) throw new IllegalStateException("the graph's loss takes float targets, not class labels");
        checkRows(rows);
        if (y == null || y.length < rows) {
            throw new IllegalArgumentException("labels '" + labels.name() + "' need " + rows + " values, got " + (y == null ? "null" : y.length));
        }
        for (int i = 0; i < rows; i++) {
            if (y[i] < 0 || y[i] >= classes) {
                throw new IllegalArgumentException("labels '" + labels.name() + "': label " + y[i] + " at row " + i + " is outside [0, " + classes + ")");
            }
        }
        for (int i = 0; i < rows; i++) arena[labels.offset() + i] = y[i];
    }

    private void feedTargets(float[] t, int rows) {
        if (targets == null) throw new IllegalStateException("the graph's loss takes class labels, not float targets");
        check(targets, t, rows);
        copyIn(targets, t, rows);
    }

    private void checkRows(int rows) {
        if (rows < 1 || rows > plan.batch()) {
            throw new IllegalArgumentException("rows must be in [1, " + plan.batch() + "] (the compiled batch), got " + rows);
        }
    }

    // ---- parameters by name ----

    /** A copy of parameter {@code name}, row-major. */
    public float[] param(String name) { return copy(plan.param(name), params); }

    /** A copy of dL/d{@code name} from the last backward pass. */
    public float[] grad(String name) { return copy(plan.param(name), grads); }

    /** Overwrites parameter {@code name}; the length must match its shape and every value be finite (else it is unchanged). */
    public void setParam(String name, float[] values) {
        Slot s = plan.param(name);
        if (values == null || values.length != s.size()) {
            throw new IllegalArgumentException("parameter '" + name + "' " + s.shape() + " needs " + s.size() + " floats, got "
                    + (values == null ? "null" : values.length));
        }
        int cols = s.shape().cols();
        int i = Finite.firstNonFinite(values, 0, values.length);
        if (i >= 0) {
            throw new IllegalArgumentException("parameter '" + name + "' " + s.shape() + " has a non-finite value " + values[i] + " at index " + i
                    + " (row " + (i / cols) + ", column " + (i % cols) + ")");
        }
        System.arraycopy(values, 0, params, s.offset(), s.size());
    }

    /** dL/d{@code input} from the last backward pass, for an input built with requiresGrad. */
    public float[] inputGrad(String name) {
        for (Slot s : plan.inputGrads()) if (s.name().equals(name)) return copy(s, arena);
        throw new IllegalArgumentException("input '" + name + "' has no gradient: build it with requiresGrad = true");
    }

    private static float[] copy(Slot s, float[] space) {
        float[] r = new float[s.size()];
        System.arraycopy(space, s.offset(), r, 0, s.size());
        return r;
    }

    /** The live parameter array (PARAMS layout of {@link Plan#params()}); for savers and diagnostics. */
    public float[] params() { return params; }

    /** The live gradient array (same layout as {@link #params()}). */
    public float[] grads() { return grads; }

    /** The live optimizer state arrays: momentum, or Adam's first and second moments. */
    public float[][] optimizerState() { return new float[][] {state1, state2}; }

    /** Sets the number of updates done (Adam's bias correction), e.g. when resuming. */
    public void setUpdates(long t) {
        if (t < 0) throw new IllegalArgumentException("updates must be >= 0, got " + t);
        this.updates = t;
    }

    public Executor executor() { return executor; }

    /** The plan, how it runs on this trainer's threads ({@link Executor#describe}) and the optimizer. */
    public String describe() {
        int parts = updateParts();
        return executor.describe() + String.format("optimizer: %s, its update in %d part%s%n", optimizer, parts, parts == 1 ? "" : "s");
    }

    /** The arena (activations and gradients; not the input batch, which steps read in place); for diagnostics. */
    public float[] arena() { return arena; }
}
