package dev.vgrad.runtime;

import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.compile.Space;
import dev.vgrad.compile.Step;
import dev.vgrad.compile.StepKind;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import dev.vgrad.kernel.Finite;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.GemmEpilogue;
import dev.vgrad.kernel.Gemv;
import dev.vgrad.kernel.Gemv16;
import dev.vgrad.kernel.Simd;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Serves a trained model: a forward-only plan whose weights are copied once at construction, packed in the
 * order the dense kernel streams them ({@link Gemv}), and never written again, so one predictor is shared
 * by every request thread. Each call borrows a private workspace (arena) from a lock-free pool, so
 * concurrent calls never lock and never see each other's activations; once the pool holds a workspace
 * per concurrent caller, a call allocates nothing.
 *
 * <p>Every call checks its arguments (nulls, offsets, lengths, row count and, with
 * {@link Options#checkFinite}, finite values) before any work, so a bad request throws an
 * {@link IllegalArgumentException} naming the problem and changes nothing. Dense layers (every step the
 * compiler fused into {@code DENSE}) wider than {@code Gemm}'s narrow paths run through {@link Gemv} (each output
 * summed over its inputs in order with fma, as {@code Gemm.nn} does for such layers); float32 narrow layers (an
 * output layer, {@link Gemm#narrow}) run Gemm's own kernels, whose sum order for them is Gemm's: on a transposed copy
 * of W made once ({@code Gemm.nt}, the dot products {@code Gemm.nn} runs after transposing W per call; one thread)
 * or, exactly one vector wide, the plan's step; other steps (add, mul, softmax, a lone activation) run through the
 * {@link Executor}'s kernels. With
 * float32 weights the outputs are bitwise those of the training plan's forward pass ({@code Trainer.forward}); batches larger than the graph's compiled
 * batch run in chunks of it.
 */
public final class Predictor implements AutoCloseable {
    /**
     * How to serve. {@code checkFinite}: reject NaN and infinite inputs (one pass over the input).
     * {@code alternateOrder}: every other call on a workspace reads each layer's weight panels last to
     * first, so the panels read last by one call are read first by the next while still in cache; results
     * are unchanged (bitwise). {@code bf16Weights}: keep dense weights as bfloat16 (half the memory traffic,
     * about 3 significant digits; results differ from float32). {@code poolSize}: workspaces kept for
     * reuse (0: twice the processors, at least 4). {@code splitCores}: a helper thread computes half of
     * each dense layer of a one-row float32 call (one caller at a time; results bitwise unchanged); it
     * spins between layers, so it pays only with an idle core to spare (off by default; {@link #close()}
     * stops it). {@code skipZeros}: a one-row call reads only the rows of W whose input is nonzero (bf16: row pairs)
     * (after a ReLU about half; most pixels of MNIST-like images), when that skips at least 1/8 of them;
     * results bitwise unchanged (see {@link Gemv#denseRowSparse}).
     */
    public record Options(boolean checkFinite, boolean alternateOrder, boolean bf16Weights, int poolSize, boolean splitCores,
                          boolean skipZeros) {
        public Options {
            if (poolSize < 0) throw new IllegalArgumentException("poolSize must be >= 0, got " + poolSize);
        }

        public static Options defaults() { return new Options(false, true, false, 0, false, true); }

        public Options withCheckFinite(boolean b) { return new Options(b, alternateOrder, bf16Weights, poolSize, splitCores, skipZeros); }

        public Options withAlternateOrder(boolean b) { return new Options(checkFinite, b, bf16Weights, poolSize, splitCores, skipZeros); }

        public Options withBf16Weights(boolean b) { return new Options(checkFinite, alternateOrder, b, poolSize, splitCores, skipZeros); }

        public Options withPoolSize(int n) { return new Options(checkFinite, alternateOrder, bf16Weights, n, splitCores, skipZeros); }

        public Options withSkipZeros(boolean b) { return new Options(checkFinite, alternateOrder, bf16Weights, poolSize, splitCores, b); }

        public Options withSplitCores(boolean b) { return new Options(checkFinite, alternateOrder, bf16Weights, poolSize, b, skipZeros); }
    }

    /** One dense step with its packed weights: y = act(x W + b), x and y in the arena. */
    private record Dense(int n, int k, float[] w, int[] w16, float[] b, dev.vgrad.graph.Activation act, float alpha,
                         int xOff, int yOff) {}

    /**
     * A narrow float32 dense step (an output layer, {@link Gemm#narrowDotProducts}): y = act(x W + b) through
     * {@code Gemm.nt} on Wᵀ, copied once here, so a call skips the transpose of W that {@code Gemm.nn} does per
     * call; the same dot products and epilogue, so the same bits as the training plan's step.
     */
    private record Narrow(int n, int k, float[] wt, GemmEpilogue ep, int xOff, int yOff) {}

    /** A caller's private scratch: the arena and an executor for the non-dense steps. */
    private static final class Workspace {
        final float[] arena;
        final Executor executor;
        /** The nonzero inputs of the layer being run (one-row calls). */
        final int[] nonZeros;
        int calls;

        Workspace(Plan plan, float[] params, int widest) {
            nonZeros = new int[widest];
            // one vector of slack so a masked store at the arena's end stays on the vector fast path
            arena = new float[Math.max(1, plan.arenaSize()) + Simd.LANES];
            executor = new Executor(plan, params, null, arena);
        }
    }

    private final Plan plan;
    private final Options options;
    private final float[] params;
    private final Step[] steps;
    private final Dense[] dense;
    private final Narrow[] narrow;
    private final Slot input;
    private final Slot output;
    private final int features;
    private final int outputs;
    private final int batch;
    private final WorkspacePool<Workspace> pool;
    private final SplitWorker split;

    private Predictor(Plan plan, float[] params, Options options) {
        this.plan = plan;
        this.options = Objects.requireNonNull(options, "options");
        this.params = params;
        this.steps = plan.steps().toArray(new Step[0]);
        this.dense = new Dense[steps.length];
        this.narrow = new Narrow[steps.length];
        for (int s = 0; s < steps.length; s++) {
            if (!servedDense(steps[s])) continue;
            dense[s] = pack(steps[s]);
            if (dense[s] == null) narrow[s] = transposed(steps[s]);
        }
        Slot in = null;
        for (Slot s : plan.inputs().values()) {
            if (s.node().op() != Op.INPUT) continue;
            if (in != null) {
                throw new IllegalArgumentException("a Predictor serves graphs with one input; this one has '" + in.name() + "' and '"
                        + s.name() + "'");
            }
            in = s;
        }
        if (in == null) throw new IllegalArgumentException("the graph has no input");
        this.input = in;
        this.output = plan.output();
        this.features = in.shape().cols();
        this.outputs = output.shape().cols();
        this.batch = plan.batch();
        int cap = options.poolSize() > 0 ? options.poolSize() : Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
        int widest = 1;
        for (Dense d : dense) if (d != null) widest = Math.max(widest, d.k);
        int inner = widest;
        this.pool = new WorkspacePool<>(cap, () -> new Workspace(plan, params, inner));
        this.split = options.splitCores() && !options.bf16Weights() ? new SplitWorker(this::upperHalf, "vgrad-predictor-split") : null;
    }

    /** Stops the split helper thread, if any; the predictor keeps working unsplit. */
    @Override
    public void close() {
        if (split != null) split.stop();
    }

    // ---- construction ----

    /** A predictor for {@code graph} with parameters laid out as {@code graph.params()}, in that order, each row-major. */
    public static Predictor of(Graph graph, float[] params) { return of(graph, params, Options.defaults()); }

    public static Predictor of(Graph graph, float[] params, Options options) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(params, "params");
        Map<String, float[]> byName = new HashMap<>();
        int off = 0;
        int total = 0;
        for (Node p : graph.params()) total += p.shape().size();
        if (params.length != total) {
            throw new IllegalArgumentException("params has " + params.length + " floats, the graph's parameters " + names(graph)
                    + " need " + total);
        }
        for (Node p : graph.params()) {
            byName.put(p.name(), Arrays.copyOfRange(params, off, off + p.shape().size()));
            off += p.shape().size();
        }
        return of(graph, byName, options);
    }

    /** A predictor for {@code plan}'s graph with parameters in {@code plan}'s layout, e.g. {@code Predictor.of(trainer.plan(), trainer.params())}. */
    public static Predictor of(Plan plan, float[] params) { return of(plan, params, Options.defaults()); }

    public static Predictor of(Plan plan, float[] params, Options options) {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(params, "params");
        if (params.length < plan.paramsSize()) {
            throw new IllegalArgumentException("params has " + params.length + " floats, the plan needs " + plan.paramsSize());
        }
        Map<String, float[]> byName = new HashMap<>();
        for (Slot s : plan.params()) byName.put(s.name(), Arrays.copyOfRange(params, s.offset(), s.offset() + s.size()));
        return of(plan.graph(), byName, options);
    }

    /** A predictor from parameters by name (e.g. read from a model file); each array is copied. */
    public static Predictor of(Graph graph, Map<String, float[]> params) { return of(graph, params, Options.defaults()); }

    public static Predictor of(Graph graph, Map<String, float[]> params, Options options) {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(params, "params");
        Plan plan = Compiler.compile(graph, CompileOptions.inference());
        float[] flat = new float[plan.paramsSize()];
        for (Slot s : plan.params()) {
            float[] v = params.get(s.name());
            if (v == null) throw new IllegalArgumentException("parameter '" + s.name() + "' " + s.shape() + " is missing");
            if (v.length != s.size()) {
                throw new IllegalArgumentException("parameter '" + s.name() + "' " + s.shape() + " needs " + s.size() + " floats, got " + v.length);
            }
            int bad = Finite.firstNonFinite(v, 0, v.length);
            if (bad >= 0) throw new IllegalArgumentException("parameter '" + s.name() + "' has a non-finite value " + v[bad] + " at index " + bad);
            System.arraycopy(v, 0, flat, s.offset(), s.size());
        }
        return new Predictor(plan, flat, options);
    }

    private static List<String> names(Graph g) {
        return g.params().stream().map(n -> n.name() + " " + n.shape()).toList();
    }

    /**
     * A DENSE step the predictor runs itself ({@link #pack} or {@link #transposed}): weights and bias from the
     * parameters, input and output in the arena, no pre-activation kept.
     */
    private static boolean servedDense(Step st) {
        if (st.kind() != StepKind.DENSE) return false;
        Operand x = st.operand(0), w = st.operand(1), b = st.operand(2), y = st.operand(3);
        return w.space() == Space.PARAMS && b != null && b.space() == Space.PARAMS && x.space() == Space.ARENA
                && y.space() == Space.ARENA && st.operand(4) == null;
    }

    /** Packs a served DENSE step's weights for {@link Gemv}; null for a float32 narrow layer (the training kernels). */
    private Dense pack(Step st) {
        Operand x = st.operand(0), w = st.operand(1), b = st.operand(2), y = st.operand(3);
        int k = st.inner(), n = st.cols();
        // a narrow layer (an output layer: at most one vector, or 16 columns) runs the training kernels
        // themselves: their sum order for narrow outputs is Gemm's to choose, and float32 predictions stay
        // bitwise Trainer.forward's
        if (Gemm.narrow(n) && !options.bf16Weights()) return null;
        float[] bias = Arrays.copyOf(Arrays.copyOfRange(params, b.offset(), b.offset() + n), Gemv.roundUp(n));
        if (options.bf16Weights()) {
            int[] p16 = new int[Gemv16.packedSize(k, n)];
            Gemv16.pack(k, n, params, w.offset(), p16, 0);
            return new Dense(n, k, null, p16, bias, st.activation(), st.alpha(), x.offset(), y.offset());
        }
        float[] packed = new float[Gemv.packedSize(k, n)];
        Gemv.pack(k, n, params, w.offset(), packed, 0);
        return new Dense(n, k, packed, null, bias, st.activation(), st.alpha(), x.offset(), y.offset());
    }

    /** Wᵀ of a narrow float32 DENSE step for {@link Narrow}; null for every other step. */
    private Narrow transposed(Step st) {
        if (!Gemm.narrowDotProducts(st.cols())) return null;
        Operand x = st.operand(0), w = st.operand(1), b = st.operand(2), y = st.operand(3);
        int k = st.inner(), n = st.cols();
        float[] wt = new float[n * k];
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) wt[j * k + p] = params[w.offset() + p * n + j];
        }
        // the epilogue the executor builds for this step: bias from the same copy of the parameters
        GemmEpilogue ep = new GemmEpilogue(params, b.offset(), st.activation(), st.alpha(), null, 0);
        return new Narrow(n, k, wt, ep, x.offset(), y.offset());
    }

    // ---- what it serves ----

    /** Floats per input row. */
    public int inputs() { return features; }

    /** Floats per output row. */
    public int outputs() { return outputs; }

    /** Rows one internal pass runs (larger batches run in chunks of it): the graph's compiled batch. */
    public int chunk() { return batch; }

    public Plan plan() { return plan; }

    public Options options() { return options; }

    /**
     * Bytes of the weights packed for the dense kernels (padded, as stored) and of narrow float32 output layers'
     * transposed copies; a float32 output layer one vector wide is read from the plan's layout.
     */
    public long weightBytes() {
        long n = 0;
        for (Dense d : dense) if (d != null) n += 4L * (d.w != null ? d.w.length : d.w16.length) + 4L * d.b.length;
        for (Narrow q : narrow) if (q != null) n += 4L * q.wt.length;
        return n;
    }

    /** Workspaces idle in the pool (for tests and diagnostics). */
    public int idleWorkspaces() { return pool.idle(); }

    // ---- predictions ----

    /** output[0..outputs) = model(input[0..inputs)). */
    public void predict(float[] input, float[] output) { predict(input, 0, 1, output, 0); }

    /** One row read at {@code inputOffset}, written at {@code outputOffset}. */
    public void predict(float[] input, int inputOffset, float[] output, int outputOffset) {
        predict(input, inputOffset, 1, output, outputOffset);
    }

    /** {@code rows} rows, row-major (rows x inputs) into (rows x outputs). */
    public void predict(float[] inputs, int rows, float[] outputs) { predict(inputs, 0, rows, outputs, 0); }

    /** {@code rows} rows from {@code inputOffset} into {@code outputOffset}. */
    public void predict(float[] inputs, int inputOffset, int rows, float[] outputs, int outputOffset) {
        check(inputs, inputOffset, rows, true, outputs, outputOffset);
        Workspace ws = pool.acquire();
        try {
            for (int r = 0; r < rows; r += batch) {
                int n = Math.min(batch, rows - r);
                System.arraycopy(inputs, inputOffset + r * features, ws.arena, input.offset(), n * features);
                run(ws, n);
                System.arraycopy(ws.arena, output.offset(), outputs, outputOffset + r * this.outputs, n * this.outputs);
            }
        } finally {
            pool.release(ws);
        }
    }

    /**
     * {@code rows} rows of little-endian-or-native floats (native order) from a memory segment at byte
     * {@code inputOffset} into {@code outputs} at byte {@code outputOffset}; heap or off-heap segments.
     * Input and output ranges may share memory only when {@code rows <= chunk()} (one chunk reads all its
     * inputs before it writes an output); over more rows an overlap is rejected.
     */
    public void predict(MemorySegment inputs, long inputOffset, int rows, MemorySegment outputs, long outputOffset) {
        Objects.requireNonNull(inputs, "predict: input segment is null");
        Objects.requireNonNull(outputs, "predict: output segment is null");
        checkRows(rows);
        checkSegment("input", inputs, inputOffset, (long) rows * features);
        checkSegment("output", outputs, outputOffset, (long) rows * this.outputs);
        if (outputs.isReadOnly()) throw new IllegalArgumentException("predict: the output segment is read-only");
        // one chunk copies all its inputs before writing an output; over several, a chunk's outputs would overwrite a later chunk's inputs
        long inBytes = 4L * rows * features, outBytes = 4L * rows * this.outputs;
        if (rows > batch && overlap(inputs, inputOffset, inBytes, outputs, outputOffset, outBytes)) {
            throw new IllegalArgumentException("predict: the output range [" + outputOffset + ", " + (outputOffset + outBytes) + ") of bytes overlaps "
                    + "the input range [" + inputOffset + ", " + (inputOffset + inBytes) + ") of the same memory");
        }
        if (!inputs.scope().isAlive() || !outputs.scope().isAlive()) {
            throw new IllegalArgumentException("predict: the " + (inputs.scope().isAlive() ? "output" : "input") + " segment's arena is closed");
        }
        if (options.checkFinite()) checkFinite(inputs, inputOffset, rows);
        Workspace ws = pool.acquire();
        try {
            for (int r = 0; r < rows; r += batch) {
                int n = Math.min(batch, rows - r);
                MemorySegment.copy(inputs, ValueLayout.JAVA_FLOAT_UNALIGNED, inputOffset + 4L * r * features, ws.arena, input.offset(),
                        n * features);
                run(ws, n);
                MemorySegment.copy(ws.arena, output.offset(), outputs, ValueLayout.JAVA_FLOAT_UNALIGNED, outputOffset + 4L * r * this.outputs,
                        n * this.outputs);
            }
        } finally {
            pool.release(ws);
        }
    }

    /** The index of the largest output for one row (the predicted class of a classifier). */
    public int predictClass(float[] input) { return predictClass(input, 0); }

    public int predictClass(float[] input, int inputOffset) {
        check(input, inputOffset, 1, false, null, 0);
        Workspace ws = pool.acquire();
        try {
            System.arraycopy(input, inputOffset, ws.arena, this.input.offset(), features);
            run(ws, 1);
            float[] a = ws.arena;
            int o = output.offset(), best = 0;
            for (int j = 1; j < outputs; j++) if (a[o + j] > a[o + best]) best = j;
            return best;
        } finally {
            pool.release(ws);
        }
    }

    /** Runs the plan's steps on the first {@code rows} rows of the workspace's arena. */
    private void run(Workspace ws, int rows) {
        if (split != null && rows == 1 && split.tryAcquire()) {
            try {
                runSplit(ws);
            } finally {
                split.release();
            }
            return;
        }
        boolean reverse = options.alternateOrder() && (ws.calls++ & 1) == 1;
        float[] a = ws.arena;
        for (int s = 0; s < steps.length; s++) {
            Dense d = dense[s];
            if (narrow[s] != null) {
                runNarrow(ws, narrow[s], rows);
            } else if (d == null) {
                ws.executor.run(steps[s], rows);
            } else if (d.w != null && rows == 1 && options.skipZeros()) {
                // one row: read only the rows of W whose input is nonzero, when that skips at least 1/8 of them
                int nnz = Gemv.nonZeros(d.k, a, d.xOff, ws.nonZeros);
                if (nnz <= d.k - d.k / 8) {
                    Gemv.denseRowSparse(d.n, d.k, a, d.xOff, ws.nonZeros, nnz, d.w, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
                } else {
                    Gemv.dense(1, d.n, d.k, a, d.xOff, d.w, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
                }
            } else if (d.w != null) {
                Gemv.dense(rows, d.n, d.k, a, d.xOff, d.w, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
            } else if (rows == 1 && options.skipZeros()) {
                // one row, bf16: skip the row pairs whose two inputs are zero, when that skips at least 1/8
                int nnz = Gemv16.nonZeroPairs(d.k, a, d.xOff, ws.nonZeros);
                if (nnz <= d.k / 2 - d.k / 16) {
                    Gemv16.denseRowSparse(d.n, d.k, a, d.xOff, ws.nonZeros, nnz, d.w16, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
                } else {
                    Gemv16.dense(1, d.n, d.k, a, d.xOff, d.w16, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
                }
            } else {
                Gemv16.dense(rows, d.n, d.k, a, d.xOff, d.w16, 0, d.b, 0, d.act, d.alpha, reverse, a, d.yOff);
            }
        }
    }

    // a narrow output layer: Gemm.nt on Wᵀ with the step's epilogue, in the executor's own workspace (one caller)
    private static void runNarrow(Workspace ws, Narrow q, int rows) {
        float[] a = ws.arena;
        Gemm.nt(rows, q.n, q.k, a, q.xOff, q.wt, 0, a, q.yOff, false, q.ep, ws.executor.workspace(), 0, 1);
    }

    /** One row with the split helper: each dense layer's panels halved between this thread and the helper. */
    private void runSplit(Workspace ws) {
        float[] a = ws.arena;
        for (int s = 0; s < steps.length; s++) {
            Dense d = dense[s];
            if (narrow[s] != null) {
                runNarrow(ws, narrow[s], 1);
                continue;
            }
            if (d == null) {
                ws.executor.run(steps[s], 1);
                continue;
            }
            int panels = Gemv.panelCount(d.n), half = panels / 2;
            if (half == 0) {
                Gemv.denseRowPanels(d.n, d.k, a, d.xOff, d.w, 0, d.b, 0, d.act, d.alpha, 0, panels, a, d.yOff);
                continue;
            }
            split.post(a, s);
            Gemv.denseRowPanels(d.n, d.k, a, d.xOff, d.w, 0, d.b, 0, d.act, d.alpha, 0, half, a, d.yOff);
            split.await();
        }
    }

    /** The helper's share of dense step {@code s}: the upper half of its panels. */
    private void upperHalf(float[] a, int s) {
        Dense d = dense[s];
        int panels = Gemv.panelCount(d.n);
        Gemv.denseRowPanels(d.n, d.k, a, d.xOff, d.w, 0, d.b, 0, d.act, d.alpha, panels / 2, panels, a, d.yOff);
    }

    // ---- checks: all before any work ----

    private void check(float[] in, int inOff, int rows, boolean hasOutput, float[] out, int outOff) {
        if (in == null) throw new IllegalArgumentException("predict: input '" + input.name() + "' is null");
        checkRows(rows);
        long needIn = (long) rows * features;
        if (inOff < 0 || inOff + needIn > in.length) {
            throw new IllegalArgumentException("predict: input '" + input.name() + "' needs " + rows + " x " + features + " = " + needIn
                    + " floats from offset " + inOff + ", the array has " + in.length);
        }
        if (hasOutput) {
            long needOut = (long) rows * outputs;
            if (out == null) throw new IllegalArgumentException("predict: output array is null");
            if (outOff < 0 || outOff + needOut > out.length) {
                throw new IllegalArgumentException("predict: output '" + output.name() + "' needs " + rows + " x " + outputs + " = "
                        + needOut + " floats from offset " + outOff + ", the array has " + out.length);
            }
            if (out == in && outOff < inOff + needIn && inOff < outOff + needOut) {
                throw new IllegalArgumentException("predict: output range [" + outOff + ", " + (outOff + needOut)
                        + ") overlaps the input range [" + inOff + ", " + (inOff + needIn) + ") of the same array");
            }
        }
        if (options.checkFinite()) checkFinite(in, inOff, (int) needIn, 0);
    }

    private void checkRows(int rows) {
        if (rows < 1) throw new IllegalArgumentException("predict: rows must be >= 1, got " + rows);
    }

    private void checkFinite(float[] x, int off, int n, int firstRow) {
        int bad = Finite.firstNonFinite(x, off, n);
        if (bad >= 0) {
            throw new IllegalArgumentException("predict: input '" + input.name() + "' has a non-finite value " + x[off + bad] + " at row "
                    + (firstRow + bad / features) + ", column " + (bad % features));
        }
    }

    /** Every input float of a segment, before any work (a scalar pass: segments are the rarer path). */
    private void checkFinite(MemorySegment in, long off, int rows) {
        long n = (long) rows * features;
        for (long i = 0; i < n; i++) {
            float v = in.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4 * i);
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("predict: input '" + input.name() + "' has a non-finite value " + v + " at row "
                        + i / features + ", column " + i % features);
            }
        }
    }

    private static void checkSegment(String what, MemorySegment seg, long off, long floats) {
        if (off < 0 || off > seg.byteSize() - 4 * floats) { // not off + 4 floats: that wraps for offsets near Long.MAX_VALUE
            throw new IllegalArgumentException("predict: " + what + " needs " + floats + " floats (" + 4 * floats + " bytes) from byte offset "
                    + off + ", the segment has " + seg.byteSize() + " bytes");
        }
    }

    /** Whether two byte ranges of two segments share memory (same off-heap memory, or the same heap array). */
    private static boolean overlap(MemorySegment a, long aOff, long aLen, MemorySegment b, long bOff, long bLen) {
        if (a.isNative() != b.isNative()) return false;
        if (!a.isNative() && a.heapBase().orElse(null) != b.heapBase().orElse(null)) return false;
        long as = a.address() + aOff, bs = b.address() + bOff;
        return as < bs + bLen && bs < as + aLen;
    }

    // ---- warm-up ----

    /** What {@link #warmup()} did: calls made, how long it took, and the batch-1 time per call at its start and end. */
    public record Warmup(long calls, long nanos, double firstCallMicros, double lastWindowMicros) {
        @Override
        public String toString() {
            return String.format("warm-up: %d calls in %.0f ms; batch-1 call %.1f us at first, %.2f us at the end", calls, nanos / 1e6,
                    firstCallMicros, lastWindowMicros);
        }
    }

    /**
     * Runs batch-1 and small-batch predictions (on synthetic inputs) until the JIT has compiled the hot path,
     * so the first real request is as fast as the thousandth: at least 20,000 calls, then windows of 1,000
     * calls until two windows in a row ran within 10% of the best window (the compiled code's speed), at
     * most 5 s. Returns what it did.
     */
    public Warmup warmup() {
        long t0 = System.nanoTime();
        int rowsMany = Math.min(batch, 8);
        float[] x = new float[rowsMany * features];
        float[] y = new float[rowsMany * outputs];
        long seed = 42;
        for (int i = 0; i < x.length; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            x[i] = (seed >>> 40) / (float) (1 << 24);
        }
        long c0 = System.nanoTime();
        predict(x, 0, 1, y, 0);
        double first = (System.nanoTime() - c0) / 1e3;
        long calls = 1;
        double best = Double.MAX_VALUE, last = first;
        int settled = 0;
        long deadline = t0 + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            long w0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) predict(x, 0, 1, y, 0);
            last = (System.nanoTime() - w0) / 1e3 / 1000;
            for (int i = 0; i < 50; i++) predict(x, 0, rowsMany, y, 0);
            calls += 1050;
            best = Math.min(best, last);
            settled = last <= best * 1.1 ? settled + 1 : 0;
            if (calls >= 20_000 && settled >= 2) break;
        }
        return new Warmup(calls, System.nanoTime() - t0, first, last);
    }

    /** One-row calls split over two cores so far ({@link Options#splitCores}; 0 without it): a diagnostic for tests. */
    long splitCalls() { return split == null ? 0 : split.acquired(); }

    /** The plan and how the dense layers are stored. */
    public String describe() {
        StringBuilder sb = new StringBuilder(plan.describe());
        sb.append(String.format("predictor: %d -> %d, chunk %d rows, weights %s packed for Gemv and narrow layers transposed (%.1f KiB), alternate order %s, "
                        + "check finite %s, pool %d, split cores %s, skip zeros %s%n", features, outputs, batch, options.bf16Weights() ? "bf16" : "float32",
                weightBytes() / 1024.0, options.alternateOrder() ? "on" : "off", options.checkFinite() ? "on" : "off",
                options.poolSize(), split != null ? "on" : "off", options.skipZeros() ? "on" : "off"));
        return sb.toString();
    }
}
