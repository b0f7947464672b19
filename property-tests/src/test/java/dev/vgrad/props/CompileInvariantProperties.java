package dev.vgrad.props;

import static dev.vgrad.props.check.Property.forAll;

import dev.vgrad.compile.BufferInfo;
import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Space;
import dev.vgrad.compile.Step;
import dev.vgrad.autodiff.Autodiff;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What compiling must preserve, on random whole graphs ({@link Gens#graphs()}). */
class CompileInvariantProperties {

    @Test
    @DisplayName("no two arena buffers that are live at the same time overlap, in training and forward-only plans")
    void liveBuffersNeverOverlap() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            for (CompileOptions o : List.of(CompileOptions.defaults(), CompileOptions.inference(), CompileOptions.defaults().withFusion(false))) {
                Plan p = Compiler.compile(g, o);
                List<BufferInfo> bs = p.buffers();
                for (int i = 0; i < bs.size(); i++) {
                    BufferInfo a = bs.get(i);
                    if (a.offset() < 0 || a.offset() + a.size() > p.arenaSize() || a.first() > a.last()) {
                        throw new AssertionError("buffer " + a + " lies outside the arena of " + p.arenaSize() + " floats\n" + p.describe());
                    }
                    for (int j = i + 1; j < bs.size(); j++) {
                        BufferInfo b = bs.get(j);
                        if (a.liveTogether(b) && a.overlapsInMemory(b)) {
                            throw new AssertionError("live together and overlapping: " + a + " and " + b + "\n" + p.describe());
                        }
                    }
                }
                if (p.arenaSizeWithReuse() > p.arenaSizeWithoutReuse()) {
                    throw new AssertionError("reuse made the arena bigger: " + p.arenaSizeWithReuse() + " > " + p.arenaSizeWithoutReuse());
                }
            }
        });
    }

    @Test
    @DisplayName("gradients are computed only where needed: for the nodes on a path from a parameter or a requiresGrad input")
    void gradientsOnlyWhereNeeded() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            List<Node> order = g.orderFrom(g.loss());
            Autodiff.Backward bw = Autodiff.differentiate(g, order);
            java.util.Set<Node> reach = new java.util.HashSet<>();
            for (Node n : g.nodes()) {
                boolean r = n.op() == Op.PARAM || (n.op() == Op.INPUT && n.requiresGrad());
                for (Node in : n.inputs()) r |= reach.contains(in);
                if (r) reach.add(n);
            }
            Plan p = Compiler.compile(g);
            java.util.Set<String> written = new java.util.HashSet<>();
            for (dev.vgrad.compile.Step st : p.steps()) {
                if (!st.backward()) continue;
                // the output is the last operand, but a dx product with a derivative fused reads v after it
                int last = st.kind() == dev.vgrad.compile.StepKind.GEMM_NT ? 2 : st.operands().length - 1;
                dev.vgrad.compile.Operand out = st.operand(last);
                if (out != null) written.add(out.name());
            }
            for (Node n : order) {
                if (bw.needs(n) != reach.contains(n)) {
                    throw new AssertionError(n.describe() + ": needs a gradient " + bw.needs(n) + ", but on a path from a parameter " + reach.contains(n));
                }
                if (!reach.contains(n) && written.contains("dL/d" + n.name())) {
                    throw new AssertionError("the plan computes dL/d" + n.name() + ", which nothing needs\n" + p.describe());
                }
            }
        });
    }

    /** Map.copyOf iterates in an order salted per JVM run: a trainer picked a random input of a two-input graph. */
    @Test
    @DisplayName("a plan lists its inputs, labels and targets in graph order")
    void inputsInGraphOrder() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            Plan p = Compiler.compile(g);
            List<String> want = g.nodes().stream().filter(n -> n.op() == Op.INPUT || n.op() == Op.LABELS || n.op() == Op.TARGETS)
                    .map(Node::name).toList();
            List<String> got = List.copyOf(p.inputs().keySet());
            if (!got.equals(want)) throw new AssertionError("plan inputs " + got + ", graph order " + want);
        });
    }

    @Test
    @DisplayName("a plan with buffer reuse gives bitwise the same loss and gradients as one without")
    void reuseChangesNoBit() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            Map<String, float[]> v = c.values(g);
            int rows = c.rows().rows();
            EngineRun with = new EngineRun(g, CompileOptions.defaults().withReuse(true));
            EngineRun without = new EngineRun(g, CompileOptions.defaults().withReuse(false));
            double l1 = with.run(v, rows), l2 = without.run(v, rows);
            if (Double.doubleToLongBits(l1) != Double.doubleToLongBits(l2)) throw new AssertionError("loss " + l1 + " with reuse, " + l2 + " without");
            for (String w : GraphCase.differentiable(g)) {
                float[] a = with.grad(w, rows), b = without.grad(w, rows);
                for (int i = 0; i < a.length; i++) {
                    if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i]) || Float.isNaN(a[i])) {
                        throw new AssertionError("dL/d" + w + "[" + i + "] = " + a[i] + " with reuse, " + b[i] + " without");
                    }
                }
            }
        });
    }

    /**
     * Fused and unfused plans run the same formulas, but split the work differently between the vector
     * loop and the scalar tail (a fused dense + activation splits each row, an unfused activation the
     * flat array), and the two paths round an activation an ulp or two apart. Later sums can cancel and
     * magnify that, so the loss must agree within 1e-5 and each gradient within 1e-4 of its tensor's
     * largest magnitude; a wrong fused kernel errs by O(1).
     */
    @Test
    @DisplayName("fusion on and off give the same loss and gradients within 1e-4")
    void fusionAgreesWithUnfused() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            Map<String, float[]> v = c.values(g);
            int rows = c.rows().rows();
            EngineRun fused = new EngineRun(g, CompileOptions.defaults().withFusion(true));
            EngineRun plain = new EngineRun(g, CompileOptions.defaults().withFusion(false));
            double l1 = fused.run(v, rows), l2 = plain.run(v, rows);
            if (!(Math.abs(l1 - l2) <= 1e-5 * (Math.abs(l2) + 1e-6))) throw new AssertionError("loss " + l1 + " fused, " + l2 + " unfused");
            for (String w : GraphCase.differentiable(g)) {
                float[] a = fused.grad(w, rows), b = plain.grad(w, rows);
                double max = 0;
                for (float x : b) max = Math.max(max, Math.abs(x));
                for (int i = 0; i < a.length; i++) {
                    if (!(Math.abs(a[i] - b[i]) <= 1e-4 * max)) {
                        throw new AssertionError("dL/d" + w + "[" + i + "] = " + a[i] + " fused, " + b[i] + " unfused\n" + plain.plan.describe());
                    }
                }
            }
        });
    }

    /**
     * The oracle marks, float by float, what each step of a run writes and what every other step of the run reads or
     * writes (the operand roles from {@code StepKind}, the memory from the operands' offsets and sizes), rather than
     * comparing intervals as {@code Plan} does.
     */
    @Test
    @DisplayName("steps that run side by side never write memory another step of their run reads or writes")
    void sideBySideStepsTouchNoSharedMemory() {
        long[] runs = new long[1];
        Consumer<GraphCase> check = c -> {
            for (CompileOptions o : List.of(CompileOptions.defaults(), CompileOptions.inference(), CompileOptions.defaults().withFusion(false))) {
                Plan p = Compiler.compile(c.graph(), o);
                List<Step> st = p.steps();
                for (int s = 0; s < st.size(); s++) {
                    int end = p.runEnd(s);
                    if (end == 0) continue;
                    if (end - s < 2 || p.lane(s) < 0) throw new AssertionError("run " + s + "-" + end + " malformed\n" + p.describe());
                    runs[0]++;
                    for (int i = s; i < end; i++) {
                        if (st.get(i).kind().isLoss()) throw new AssertionError("a loss in a side-by-side run\n" + p.describe());
                        Map<Space, BitSet> written = touched(st.get(i), true);
                        for (int j = s; j < end; j++) {
                            if (j == i) continue;
                            Map<Space, BitSet> other = touched(st.get(j), false);
                            for (Space sp : Space.values()) {
                                if (written.get(sp).intersects(other.get(sp))) {
                                    throw new AssertionError("steps " + i + " and " + j + " share " + sp + " memory\n" + p.describe());
                                }
                            }
                        }
                    }
                }
            }
        };
        // the small graphs of Gens.graphs() (batch <= 6) never form a run worth a dispatch: only wide ones do
        forAll(20, Gens.wideGraphs(), check);
        if (runs[0] == 0) throw new AssertionError("no plan had a side-by-side run");
    }

    // the floats a step writes (writesOnly) or reads and writes, per space
    private static Map<Space, BitSet> touched(Step st, boolean writesOnly) {
        Map<Space, BitSet> m = new EnumMap<>(Space.class);
        for (Space sp : Space.values()) m.put(sp, new BitSet());
        Operand[] o = st.operands();
        for (int i = 0; i < o.length; i++) {
            if (o[i] == null || (writesOnly ? !st.kind().writes(i) : !st.kind().writes(i) && !st.kind().reads(i))) continue;
            m.get(o[i].space()).set(o[i].offset(), o[i].offset() + o[i].size());
        }
        return m;
    }

    @Test
    @DisplayName("loss and gradients are bitwise the same on 1, 2 and 3 threads, runs of independent steps side by side included")
    void threadsChangeNoBit() {
        long[] sideBySide = new long[1];
        forAll(10, Gens.wideGraphs(), c -> sameOnTwoAndThreeThreads(c, sideBySide));
        // the wide graphs must have exercised side-by-side runs at all
        if (sideBySide[0] == 0) throw new AssertionError("no run of independent steps ran side by side in any case");
    }

    @Test
    @DisplayName("loss and gradients are bitwise the same on 1, 2 and 3 threads on graphs whose products split on every GEMM path")
    void threadsChangeNoBitWhereEveryPathSplits() {
        forAll(10, Gens.splitGraphs(), c -> sameOnTwoAndThreeThreads(c, new long[1]));
    }

    // loss and every gradient of the graph on 2 and 3 threads, each run twice, bitwise those of one thread; counts the
    // side-by-side runs into sideBySide[0]
    private static void sameOnTwoAndThreeThreads(GraphCase c, long[] sideBySide) {
        Graph g = c.graph();
        Map<String, float[]> v = c.values(g);
        int rows = c.rows().rows();
        EngineRun one = new EngineRun(g, CompileOptions.defaults(), 1);
        double l1 = one.run(v, rows);
        for (int threads = 2; threads <= 3; threads++) {
            EngineRun more = new EngineRun(g, CompileOptions.defaults(), threads);
            // twice: a worker parked before the first run may wake after the caller has run its parts (the pool runs
            // the parts a worker has not begun on the caller); the second run finds it spinning
            for (int rep = 0; rep < 2; rep++) {
                double l2 = more.run(v, rows);
                if (Double.doubleToLongBits(l1) != Double.doubleToLongBits(l2)) {
                    throw new AssertionError("loss " + l1 + " on 1 thread, " + l2 + " on " + threads + "\n" + more.executor.describe());
                }
                for (String w : GraphCase.differentiable(g)) {
                    float[] a = one.grad(w, rows), b = more.grad(w, rows);
                    for (int i = 0; i < a.length; i++) {
                        if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                            throw new AssertionError("dL/d" + w + "[" + i + "] = " + a[i] + " on 1 thread, " + b[i] + " on " + threads
                                    + ", run " + (rep + 1) + "\n" + more.executor.describe());
                        }
                    }
                }
            }
            sideBySide[0] += more.executor.sideBySideRuns();
        }
    }
}
