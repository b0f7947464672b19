package dev.vgrad.props;

import static dev.vgrad.props.check.Property.forAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.StepKind;
import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every op and every fused kernel: the engine's vector-Jacobian product against central differences
 * of the op's double reference ({@link Vjp}), on random shapes (1, lanes-1, lanes, lanes+1, primes),
 * random inputs and partial batches.
 *
 * <p>Tolerances (relative to sum_i |t_i g_i| + |numeric|, see {@link Vjp#check}):
 * <ul>
 *   <li>1e-4 for everything. The engine works in float (eps 6e-8): a dense or softmax sums at most 40
 *       products (error <= 40 eps ~ 2.4e-6 of the absolute sum); sigmoid / tanh derivatives are formed from
 *       the float output, 1 - y^2 for |x| <= 3 loses at most a factor 1 / (1 - tanh(3)^2) ~ 100, i.e. 6e-6;
 *       GELU's derivative cancels in 1 + tanh(.) for x ~ -3 (another ~100x). 1e-4 leaves a margin of 10-40x
 *       over these, while any wrong rule (a missing term, a factor, a transposition) errs by O(1).</li>
 *   <li>Kinks: relu and leaky relu inputs are kept at least 1e-3 from 0 (drawn so, or the bias is moved),
 *       1000x the float error of a pre-activation and 10x what h moves it.</li>
 * </ul>
 */
class OpGradientProperties {
    static final double RTOL = 1e-4;
    static final double KINK_GAP = 1e-3;

    private static String targetsOf(Graph g) { return g.loss().input(1).name(); }

    @Test
    @DisplayName("every activation's VJP matches central differences of its double reference")
    void activationVjpMatchesFiniteDifferences() {
        forAll(s -> {
            Activation a = Gens.activation().draw(s);
            float alpha = Gens.alpha().draw(s);
            Gens.Rows r = Gens.rows(17).draw(s);
            int n = Gens.size(40).draw(s);
            Gens.Data d = Gens.data().draw(s);
            GraphBuilder b = Graph.builder();
            Node x = b.input("x", r.batch(), n, true);
            b.mse(b.activation(a, x, alpha));
            Graph g = b.build();
            Map<String, float[]> v = new HashMap<>();
            v.put("x", d.awayFromZero(r.batch() * n, KINK_GAP, 3));
            v.put(targetsOf(g), d.uniform(r.batch() * n, 1));
            return new Vjp.Case(a.id() + " (alpha " + alpha + ")", g, r.rows(), v, List.of("x"),
                    m -> Reference.act(a, alpha, m.get("x")), true, RTOL, d);
        }, Vjp::check);
    }

    @Test
    @DisplayName("dense, alone and fused with each activation, has the VJP of x W + b through the activation")
    void denseVjpMatchesFiniteDifferences() {
        forAll(s -> {
            Activation a = Gens.activation().draw(s);
            float alpha = Gens.alpha().draw(s);
            Gens.Rows r = Gens.rows(17).draw(s);
            int k = Gens.size(40).draw(s), n = Gens.size(40).draw(s);
            Gens.Data d = Gens.data().draw(s);
            GraphBuilder b = Graph.builder();
            Node x = b.input("x", r.batch(), k, true);
            Node z = b.dense("fc", x, n);
            b.mse(a == Activation.IDENTITY ? z : b.activation(a, z, alpha));
            Graph g = b.build();
            Map<String, float[]> v = new HashMap<>();
            float[] xs = d.uniform(r.batch() * k, 1), w = d.uniform(k * n, 1.5 / Math.sqrt(k)), bias = d.uniform(n, 0.5);
            if (a == Activation.RELU || a == Activation.LEAKY_RELU) keepAwayFromKink(r.rows(), k, n, xs, w, bias);
            v.put("x", xs);
            v.put("fc.W", w);
            v.put("fc.b", bias);
            v.put(targetsOf(g), d.uniform(r.batch() * n, 1));
            int rows = r.rows();
            return new Vjp.Case("dense" + (a == Activation.IDENTITY ? "" : "+" + a.id() + " fused (alpha " + alpha + ")"), g, rows, v,
                    List.of("x", "fc.W", "fc.b"),
                    m -> Reference.act(a, alpha, Reference.dense(rows, k, n, m.get("x"), m.get("fc.W"), m.get("fc.b"))), true, RTOL, d);
        }, k -> {
            if (k.graph().nodes().stream().anyMatch(n -> n.op() == dev.vgrad.graph.Op.ACTIVATION)) {
                Plan p = Compiler.compile(k.graph());
                assertTrue(p.steps().stream().anyMatch(st -> st.kind() == StepKind.DENSE && st.activation() != Activation.IDENTITY),
                        "the activation should be fused into the dense step:\n" + p.describe());
            }
            Vjp.check(k);
        });
    }

    /** Moves each bias b_j until every pre-activation x_i W_j + b_j of the run rows is at least the gap from 0. */
    static void keepAwayFromKink(int rows, int k, int n, float[] x, float[] w, float[] b) {
        for (int j = 0; j < n; j++) {
            for (int attempt = 0; attempt <= 2 * rows + 2; attempt++) {
                boolean ok = true;
                for (int i = 0; i < rows && ok; i++) {
                    double z = b[j];
                    for (int p = 0; p < k; p++) z += (double) x[i * k + p] * w[p * n + j];
                    if (Math.abs(z) < 2 * KINK_GAP) ok = false;
                }
                if (ok) break;
                b[j] += (float) (4 * KINK_GAP);
            }
        }
    }

    @Test
    @DisplayName("softmax's VJP matches central differences of the row-wise double softmax")
    void softmaxVjpMatchesFiniteDifferences() {
        forAll(s -> {
            Gens.Rows r = Gens.rows(17).draw(s);
            int n = Gens.size(40).draw(s);
            Gens.Data d = Gens.data().draw(s);
            GraphBuilder b = Graph.builder();
            Node x = b.input("x", r.batch(), n, true);
            b.mse(b.softmax(x));
            Graph g = b.build();
            Map<String, float[]> v = new HashMap<>();
            v.put("x", d.uniform(r.batch() * n, 3));
            v.put(targetsOf(g), d.uniform(r.batch() * n, 1));
            int rows = r.rows();
            return new Vjp.Case("softmax", g, rows, v, List.of("x"), m -> Reference.softmax(rows, n, m.get("x")), true, RTOL, d);
        }, Vjp::check);
    }

    @Test
    @DisplayName("add and mul have the VJPs of a + b and a * b, also when both operands are the same node")
    void elementwiseVjpMatchesFiniteDifferences() {
        forAll(s -> {
            boolean isMul = s.bool(), same = s.bool();
            Gens.Rows r = Gens.rows(17).draw(s);
            int n = Gens.size(40).draw(s);
            Gens.Data d = Gens.data().draw(s);
            GraphBuilder b = Graph.builder();
            Node a = b.input("a", r.batch(), n, true);
            Node c = same ? a : b.input("b", r.batch(), n, true);
            b.mse(isMul ? b.mul(a, c) : b.add(a, c));
            Graph g = b.build();
            Map<String, float[]> v = new HashMap<>();
            v.put("a", d.uniform(r.batch() * n, 2));
            if (!same) v.put("b", d.uniform(r.batch() * n, 2));
            v.put(targetsOf(g), d.uniform(r.batch() * n, 1));
            String other = same ? "a" : "b";
            return new Vjp.Case((isMul ? "mul" : "add") + (same ? "(a, a)" : "(a, b)"), g, r.rows(), v, same ? List.of("a") : List.of("a", "b"),
                    m -> isMul ? Reference.mul(m.get("a"), m.get(other)) : Reference.add(m.get("a"), m.get(other)), true, RTOL, d);
        }, Vjp::check);
    }

    @Test
    @DisplayName("each loss's gradient (mse, bce with logits, softmax cross-entropy fused) matches central differences")
    void lossGradientMatchesFiniteDifferences() {
        forAll(s -> {
            int kind = s.between(0, 2);
            Gens.Rows r = Gens.rows(17).draw(s);
            int n = Gens.size(40).draw(s);
            Gens.Data d = Gens.data().draw(s);
            GraphBuilder b = Graph.builder();
            Node p = b.input("p", r.batch(), n, true);
            Map<String, float[]> v = new HashMap<>();
            int rows = r.rows();
            String what;
            java.util.function.Function<Map<String, double[]>, double[]> ref;
            Graph g;
            switch (kind) {
                case 0 -> {
                    b.mse(p);
                    g = b.build();
                    String t = targetsOf(g);
                    v.put("p", d.uniform(r.batch() * n, 2));
                    v.put(t, d.uniform(r.batch() * n, 2));
                    what = "mse";
                    ref = m -> new double[] {Reference.mse(m.get("p"), m.get(t))};
                }
                case 1 -> {
                    b.binaryCrossEntropyWithLogits(p);
                    g = b.build();
                    String t = targetsOf(g);
                    v.put("p", d.uniform(r.batch() * n, 4));
                    v.put(t, d.between(r.batch() * n, 0, 1));
                    what = "bce-with-logits";
                    ref = m -> new double[] {Reference.bceWithLogits(m.get("p"), m.get(t))};
                }
                default -> {
                    b.softmaxCrossEntropy(p);
                    g = b.build();
                    String t = targetsOf(g);
                    v.put("p", d.uniform(r.batch() * n, 3));
                    int[] labels = d.labels(r.batch(), n);
                    float[] lf = new float[labels.length];
                    for (int i = 0; i < labels.length; i++) lf[i] = labels[i];
                    v.put(t, lf);
                    what = "softmax-cross-entropy";
                    ref = m -> new double[] {Reference.softmaxCrossEntropy(rows, n, m.get("p"), m.get(t))};
                }
            }
            return new Vjp.Case(what, g, rows, v, List.of("p"), ref, false, RTOL, d);
        }, Vjp::check);
    }
}
