package dev.vgrad.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.GraphException;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CompilerTest {
    static Graph mlp(int batch) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", batch, 20);
        Node h = b.relu(b.dense("fc1", x, 33));
        Node r = b.add(h, b.gelu(b.dense("fc2", h, 33))); // fan-out of h: residual
        Node s = b.sigmoid(b.dense("fc3", r, 17));
        b.softmaxCrossEntropy(b.dense("out", s, 7));
        return b.build();
    }

    /** The benchmark MLP: 784-256-256-10 with ReLU, softmax cross-entropy, batch 128. */
    static Graph mnistMlp() {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node h = b.relu(b.dense("fc1", b.input("x", 128, 784), 256));
        h = b.relu(b.dense("fc2", h, 256));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        return b.build();
    }

    static float[] data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        return a;
    }

    @Test
    void theBufferPlannerReusesMemoryOnlyBetweenDisjointLifetimes() {
        // a [0,1] and b [2,3] can share; c [1,2] meets both
        List<BufferPlanner.Request> reqs = List.of(new BufferPlanner.Request(16, 0, 1), new BufferPlanner.Request(16, 2, 3),
                new BufferPlanner.Request(16, 1, 2));
        BufferPlanner.Placement p = BufferPlanner.plan(reqs, true);
        assertEquals(32, p.size());
        assertEquals(p.offsets()[0], p.offsets()[1]);
        assertTrue(p.offsets()[2] != p.offsets()[0]);
        assertEquals(48, BufferPlanner.plan(reqs, false).size());
    }

    @Test
    void liveBuffersNeverOverlapAndReuseShrinksTheArena() {
        Plan p = Compiler.compile(mlp(16));
        for (BufferInfo a : p.buffers()) {
            for (BufferInfo b : p.buffers()) {
                if (a != b && a.liveTogether(b)) assertFalse(a.overlapsInMemory(b), a + " overlaps " + b);
            }
        }
        assertTrue(p.arenaSizeWithReuse() < p.arenaSizeWithoutReuse(), p.describe());
    }

    @Test
    void describeListsStepsKernelsOffsetsFlopsAndBothArenaSizes() {
        Plan p = Compiler.compile(mlp(16));
        String d = p.describe();
        assertTrue(d.contains("gemm.nn+bias+relu"), d);    // dense + bias + activation fused
        assertTrue(d.contains("gemm.nn+bias+gelu"), d);
        assertTrue(d.contains("loss_softmax_cross_entropy"), d);
        assertTrue(d.contains("gemm.tn") && d.contains("gemm.nt"), d);
        assertTrue(d.contains("relu' in place"), d);        // activation derivative folded into the backward pass
        assertTrue(d.contains("(sum)") && d.contains("(+=)"), d); // the fan-out sum of the residual
        assertTrue(d.contains("with buffer reuse") && d.contains("without"), d);
        assertTrue(d.contains("MFLOP"), d);
    }

    @Test
    void describeNamesEachGemmStepsPath() {
        // the benchmark MLP at batch 128: hidden products blocked; the 10-class output layer's forward as dot
        // products, its dW as outer products, its dx (k = 10) by the short-k path; at 9 rows the forward products
        // take the small-M path (dx stays blocked: A·Bᵀ packs Bᵀ whatever m). With 16 or 8 lanes (both legs of the
        // build); with 4 lanes 10 columns are not narrow, and without SIMD every path is the scalar twins
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.vgrad.kernel.Simd.VECTORIZED && dev.vgrad.kernel.Simd.LANES >= 8);
        Plan p = Compiler.compile(mnistMlp());
        String[] want = {"blocked", "blocked", "narrow: dot products", "-", "narrow: outer products", "-", "short k",
                "blocked", "-", "blocked", "blocked", "-"};
        String[] got = new String[p.steps().size()];
        for (Step st : p.steps()) got[st.index()] = Plan.gemmPath(st, 128);
        assertArrayEquals(want, got, p.describe());
        assertTrue(p.describe().contains("narrow: outer products"), p.describe());
        assertEquals("small M", Plan.gemmPath(p.steps().get(0), 9));
        assertEquals("narrow: dot products", Plan.gemmPath(p.steps().get(2), 9));
        assertEquals("blocked", Plan.gemmPath(p.steps().get(9), 9));
        // as many classes as lanes: the forward takes a vector of C per row
        GraphBuilder b = Graph.builder();
        b.softmaxCrossEntropy(b.dense("out", b.input("x", 32, 40), dev.vgrad.kernel.Simd.LANES));
        Plan q = Compiler.compile(b.build());
        assertEquals("narrow: row vectors", Plan.gemmPath(q.steps().get(0), 32), q.describe());
    }

    @Test
    void anActivationsDerivativeIsFusedIntoTheDxProductThatWroteItsOnlyContribution() {
        // sigmoid(fc3) feeds only out: its derivative runs in out's dx GEMM; relu(fc1) fans out (fc2 and the residual
        // add), so ∂L/∂h is a sum and its derivative stays a step of its own, as does gelu(fc2)'s (fed by the add)
        Plan fused = Compiler.compile(mlp(16));
        assertEquals(1, count(fused, StepKind.GEMM_NT, dev.vgrad.graph.Activation.SIGMOID), fused.describe());
        assertEquals(0, count(fused, StepKind.ACTIVATION_BACKWARD, dev.vgrad.graph.Activation.SIGMOID), fused.describe());
        assertEquals(1, count(fused, StepKind.ACTIVATION_BACKWARD, dev.vgrad.graph.Activation.RELU), fused.describe());
        assertEquals(1, count(fused, StepKind.ACTIVATION_BACKWARD, dev.vgrad.graph.Activation.GELU), fused.describe());
        assertTrue(fused.describe().contains("gemm.nt·sigmoid'"), fused.describe());
        Plan plain = Compiler.compile(mlp(16), CompileOptions.defaults().withFusion(false));
        assertEquals(0, plain.steps().stream().filter(st -> st.kind() == StepKind.GEMM_NT
                && st.activation() != dev.vgrad.graph.Activation.IDENTITY).count(), plain.describe());
        assertEquals(1, count(plain, StepKind.ACTIVATION_BACKWARD, dev.vgrad.graph.Activation.SIGMOID), plain.describe());
        assertEquals(fused.steps().size() + 4, plain.steps().size()); // 3 activations + 1 derivative apart
    }

    static long count(Plan p, StepKind kind, dev.vgrad.graph.Activation act) {
        return p.steps().stream().filter(st -> st.kind() == kind && st.activation() == act).count();
    }

    @Test
    void reuseOnAndOffGiveBitwiseTheSameTraining() {
        float[][] params = new float[2][];
        double[] losses = new double[2];
        for (int v = 0; v < 2; v++) {
            Plan p = Compiler.compile(mlp(16), CompileOptions.defaults().withReuse(v == 0));
            Trainer t = new Trainer(p, new Optimizer.Adam(0.01f), 3);
            float[] x = data(16 * 20, 1);
            int[] y = new int[16];
            for (int i = 0; i < 16; i++) y[i] = i % 7;
            for (int s = 0; s < 5; s++) losses[v] = t.step(x, y);
            params[v] = t.params().clone();
        }
        assertEquals(losses[0], losses[1]);
        assertArrayEquals(params[0], params[1]);
    }

    @Test
    void fusionOnAndOffAgree() {
        Trainer[] ts = new Trainer[2];
        float[] x = data(16 * 20, 2);
        int[] y = new int[16];
        for (int i = 0; i < 16; i++) y[i] = (3 * i) % 7;
        for (int v = 0; v < 2; v++) {
            ts[v] = new Trainer(Compiler.compile(mlp(16), CompileOptions.defaults().withFusion(v == 0)), new Optimizer.Sgd(0.1f), 4);
            ts[v].gradients(x, y, 16);
        }
        assertTrue(ts[0].plan().steps().size() < ts[1].plan().steps().size());
        float[] g0 = ts[0].grads(), g1 = ts[1].grads();
        for (int i = 0; i < g0.length; i++) assertEquals(g1[i], g0[i], 1e-6 + 1e-5 * Math.abs(g1[i]), "gradient " + i);
    }

    @Test
    void aPartialBatchEqualsAPlanCompiledForThatBatch() {
        // rows = 5 through a plan compiled for 16 gives the gradients of a plan compiled for 5
        float[] x = data(16 * 20, 3);
        int[] y = new int[16];
        for (int i = 0; i < 16; i++) y[i] = i % 7;
        Trainer big = new Trainer(mlp(16), new Optimizer.Sgd(0.1f), 9);
        Trainer small = new Trainer(mlp(5), new Optimizer.Sgd(0.1f), 9);
        double lb = big.gradients(x, y, 5);
        double ls = small.gradients(x, y, 5);
        assertEquals(ls, lb, 1e-6);
        for (int i = 0; i < big.grads().length; i++) assertEquals(small.grads()[i], big.grads()[i], 1e-6 + 1e-5 * Math.abs(small.grads()[i]));
    }

    @Test
    void aForwardOnlyPlanHasNoBackwardStepsAndGivesTheSameOutput() {
        Graph g = mlp(4);
        Plan inf = Compiler.compile(g, CompileOptions.inference());
        assertEquals(-1, inf.lossStep());
        assertTrue(inf.steps().stream().noneMatch(Step::backward));
        Trainer t = new Trainer(g, new Optimizer.Sgd(0.1f), 1);
        float[] x = data(4 * 20, 5);
        float[] out1 = new float[4 * 7];
        t.forward(x, 4, out1);
        float[] arena = new float[inf.arenaSize()];
        System.arraycopy(x, 0, arena, inf.input("x").offset(), x.length);
        new dev.vgrad.runtime.Executor(inf, t.params(), null, arena).forward(4, false);
        float[] out2 = new float[4 * 7];
        System.arraycopy(arena, inf.output().offset(), out2, 0, out2.length);
        assertArrayEquals(out1, out2);
    }

    @Test
    void aGraphWithoutALossCannotBeCompiledForTraining() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 2, 3);
        b.output(b.dense("fc", x, 2));
        Graph g = b.build();
        GraphException e = assertThrows(GraphException.class, () -> Compiler.compile(g));
        assertTrue(e.getMessage().contains("no loss"), e.getMessage());
        assertTrue(Compiler.compile(g, CompileOptions.inference()).steps().size() == 1);
    }

    @Test
    void aLayersDwDxAndBiasGradientRunSideBySideInTwoBalancedLanes() {
        // 784-256-256-10 at batch 128, worked out by hand: the loss (step 3) writes dL/dout, which the output layer's dW (4),
        // db (5) and dx·relu' (6) all read and none writes, and they write three separate buffers; likewise fc2's (7, 8, 9),
        // which read dL/drelu8 that step 6 wrote. The output layer's dx carries the derivative's r*c FLOPs too, so it is the
        // heavier lane 0 (688,128 FLOPs against 655,360 + 1,280); fc2's two lanes tie (16,809,984 each) and the first placed,
        // the heaviest step dx, keeps lane 0.
        // fc1's dW (10) and db (11) are independent as well but 51 MFLOP against 0.03: splitting dW over the threads is faster.
        Plan p = Compiler.compile(mnistMlp());
        int[] lanes = new int[p.steps().size()];
        int[] ends = new int[p.steps().size()];
        for (int s = 0; s < lanes.length; s++) {
            lanes[s] = p.lane(s);
            ends[s] = p.runEnd(s);
        }
        assertArrayEquals(new int[] {-1, -1, -1, -1, 1, 1, 0, 1, 1, 0, -1, -1}, lanes, p.describe());
        assertArrayEquals(new int[] {0, 0, 0, 0, 7, 0, 0, 10, 0, 0, 0, 0}, ends, p.describe());
        assertTrue(p.describe().contains("side by side on 2+ threads: steps 4-6, lane 0: 6 | lane 1: 4 5"), p.describe());
        assertTrue(p.describe().contains("side by side on 2+ threads: steps 7-9, lane 0: 9 | lane 1: 7 8"), p.describe());
    }

    @Test
    void stepsThatTouchTheSameMemoryNeverRunSideBySide() {
        // one weight used by two dense layers on two inputs. Worked out from the plan: forward, a = x1 W + b (step 0) and
        // c = x2 W + b (1) read the same W and write apart, 1.29 MFLOP each: side by side. Backward, dW = x2ᵀ dc (10),
        // db = colsum(dc) (11) and dW += x1ᵀ da (12) read different values, and 11 touches neither dW nor what 10 and 12
        // read: only dL/dW, which both products write, keeps 10 and 12 apart (with it ignored they would form a balanced
        // run, 1.28 MFLOP a lane, and race on dW)
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x1 = b.input("x1", 64, 100), x2 = b.input("x2", 64, 100);
        Node w = b.param("W", 100, 100, Init.HE_UNIFORM), bias = b.param("b", 1, 100, Init.ZEROS);
        b.mse(b.dense("out", b.add(b.dense("a", x1, w, bias), b.dense("c", x2, w, bias)), 10));
        Plan p = Compiler.compile(b.build());
        List<Step> st = p.steps();
        assertEquals(2, p.runEnd(0), p.describe());
        assertArrayEquals(new int[] {0, 1}, new int[] {p.lane(0), p.lane(1)}, p.describe());
        Step dw = st.get(10), dwAgain = st.get(12);
        assertEquals(StepKind.GEMM_TN, dw.kind(), p.describe());
        assertEquals(StepKind.GEMM_TN, dwAgain.kind(), p.describe());
        assertTrue(dwAgain.accumulate() && dw.operand(2).offset() == dwAgain.operand(2).offset(), p.describe());
        assertTrue(Plan.independent(dw, st.get(11)) && Plan.independent(st.get(11), dwAgain), p.describe());
        assertFalse(Plan.independent(dw, dwAgain), p.describe());
        for (int s = p.forwardSteps(); s < st.size(); s++) assertEquals(-1, p.lane(s), s + "\n" + p.describe());
        // every run, here and in the residual MLP: no loss, every pair of steps independent
        for (Plan q : List.of(p, Compiler.compile(mlp(64)))) {
            for (int s = 0; s < q.steps().size(); s++) {
                for (int i = s; i < q.runEnd(s); i++) {
                    assertFalse(q.steps().get(i).kind().isLoss(), q.describe());
                    for (int j = i + 1; j < q.runEnd(s); j++) {
                        assertTrue(Plan.independent(q.steps().get(i), q.steps().get(j)), i + " and " + j + "\n" + q.describe());
                    }
                }
            }
        }
    }

    @Test
    void lanesAreBalancedWhicheverEndsHeavierAndTheHeavierIsLaneZero() {
        long mf = 1L << 20;
        int[] lanes = new int[3];
        // 10 | 9 + 9: lane 1 ends with 18 of 28 MFLOP (64 %): rejected, although lane 0 alone holds only 36 %
        assertEquals(-1, Plan.lanes(new long[] {10 * mf, 9 * mf, 9 * mf}, lanes));
        // 10 | 6 + 6: 12 of 22 (54.5 %) kept; the 6 + 6 lane is the heavier, so it is lane 0 (the larger half of the threads)
        assertEquals(10 * mf, Plan.lanes(new long[] {6 * mf, 10 * mf, 6 * mf}, lanes));
        assertArrayEquals(new int[] {0, 1, 0}, lanes);
        // the lighter lane under a quarter MFLOP: not worth a dispatch
        assertEquals(-1, Plan.lanes(new long[] {1L << 17, 1L << 17}, lanes));
        assertEquals(1L << 18, Plan.lanes(new long[] {1L << 18, 1L << 18}, lanes));
    }
}
