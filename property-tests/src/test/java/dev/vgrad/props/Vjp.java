package dev.vgrad.props;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The inner-product gradient check (JAX's {@code check_vjp}): for random directions t (over one input)
 * and c (over the output), the engine's vector-Jacobian product must satisfy
 * {@code <t, J^T c> ≈ (<c, f(x + h t)> - <c, f(x - h t)>) / 2h}, with f the op's double reference.
 *
 * <p>h = 1e-6 in double: the central difference's truncation error (h^2 |f'''| / 6 ~ 1e-12) and its
 * rounding error (2^-52 |f| / h ~ 1e-10 |f|) are far below the float errors the tolerance allows for,
 * so a failure is the engine's, not the oracle's.
 */
final class Vjp {
    private Vjp() {}

    static final double H = 1e-6;

    /**
     * One case: an engine graph whose loss is either the op itself ({@code seeded} false) or an MSE on
     * the op's output whose gradient the check replaces with c ({@code seeded} true); the leaves' values;
     * the leaves to differentiate with respect to; and the op's double reference on the first rows.
     */
    record Case(String what, Graph graph, int rows, Map<String, float[]> values, List<String> wrt,
                Function<Map<String, double[]>, double[]> reference, boolean seeded, double rtol, Gens.Data data) {
        @Override
        public String toString() {
            return what + " (" + rows + " of " + graph.inputs().get(0).shape().rows() + " rows, " + data + ", rtol " + rtol + ")\n"
                    + graph.describe();
        }
    }

    /**
     * Runs the case through the engine and checks every wrt leaf:
     * |analytic - numeric| <= rtol (sum_i |t_i g_i| + |numeric|) + (rounding of the difference quotient).
     */
    static void check(Case k) {
        EngineRun run = new EngineRun(k.graph());
        run.forward(k.values(), k.rows());
        double[] c;
        if (k.seeded()) {
            Node pred = k.graph().loss().input(0);
            float[] cf = k.data().uniform(k.rows() * pred.shape().cols(), 1.0);
            run.seedPredictionGradient(cf, k.rows());
            c = Reference.toDouble(cf, cf.length);
        } else {
            c = new double[] {1};
        }
        run.backward(k.rows());
        Map<String, double[]> base = doubles(k.graph(), k.values(), k.rows());
        for (String w : k.wrt()) {
            float[] g = run.grad(w, k.rows());
            double[] t = k.data().direction(g.length);
            double analytic = 0, scale = 0;
            for (int i = 0; i < g.length; i++) {
                analytic += t[i] * g[i];
                scale += Math.abs(t[i] * g[i]);
            }
            double[] plus = k.reference().apply(shifted(base, w, t, H));
            double[] minus = k.reference().apply(shifted(base, w, t, -H));
            double dp = 0, dm = 0, mag = 0;
            for (int j = 0; j < c.length; j++) {
                dp += c[j] * plus[j];
                dm += c[j] * minus[j];
                mag += Math.abs(c[j] * plus[j]) + Math.abs(c[j] * minus[j]);
            }
            double numeric = (dp - dm) / (2 * H);
            double tol = k.rtol() * (scale + Math.abs(numeric)) + 8 * 0x1p-52 * mag / (2 * H) + 1e-12;
            double err = Math.abs(analytic - numeric);
            if (!(err <= tol)) {
                throw new AssertionError(String.format(
                        "%s: <t, dL/d%s> = %.9g analytic vs %.9g by central differences: error %.3g > tolerance %.3g (scale %.3g)%n%s",
                        k.what(), w, analytic, numeric, err, tol, scale, run.plan.describe()));
            }
        }
    }

    /** The leaves as doubles: parameters at full size, inputs, targets and labels on the first rows. */
    static Map<String, double[]> doubles(Graph g, Map<String, float[]> values, int rows) {
        Map<String, double[]> m = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!n.op().isLeaf()) continue;
            float[] v = values.get(n.name());
            if (v == null) continue;
            int size = n.op() == Op.PARAM ? n.shape().size() : rows * n.shape().cols();
            m.put(n.name(), Reference.toDouble(v, size));
        }
        return m;
    }

    static Map<String, double[]> shifted(Map<String, double[]> base, String w, double[] t, double h) {
        Map<String, double[]> m = new HashMap<>(base);
        double[] x = base.get(w).clone();
        for (int i = 0; i < x.length; i++) x[i] += h * t[i];
        m.put(w, x);
        return m;
    }
}
