package dev.vgrad.props;

import static dev.vgrad.props.check.Property.assume;
import static dev.vgrad.props.check.Property.forAll;

import dev.vgrad.graph.Graph;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Random whole graphs (chains, fan-out with sums and products, residual adds, skips, a second input,
 * softmax, every activation and loss; depth 1-8, widths 1-40, partial batches): the engine's gradient of
 * the loss with respect to every parameter and every input built with requiresGrad, against central
 * differences of the graph's loss evaluated in double by {@link Reference#evaluate}.
 *
 * <p>One random direction t per tensor: |<t, g> - (L(v + h t) - L(v - h t)) / 2h| <= 1e-3 (sum |t_i g_i| + |fd|)
 * + rounding of the quotient, h = 1e-7. The engine's float gradient passes up to 8 layers of sums of
 * up to 40 products and derivatives formed from float outputs: about 8 * 40 * eps ~ 2e-5 of the absolute
 * sum, amplified where sigmoid / tanh derivatives are read from saturated outputs; 1e-3 allows for
 * that, and a wrong rule errs by O(1) on its tensor. Cases whose relu / leaky-relu inputs come within
 * 1e-4 of the kink are discarded (the derivative is not defined there; h moves a pre-activation by
 * about 1e-6).
 */
class GraphGradientProperties {
    static final double RTOL = 1e-3;
    static final double H = 1e-7;
    static final double KINK_GAP = 1e-4;
    static final double NOISE = 1e-5;

    @Test
    @DisplayName("the gradient of a random graph's loss w.r.t. every parameter and input matches central differences")
    void graphGradientsMatchFiniteDifferences() {
        forAll(Gens.graphs(), c -> {
            Graph g = c.graph();
            Map<String, float[]> v = c.values(g);
            int rows = c.rows().rows();
            Map<String, double[]> base = Vjp.doubles(g, v, rows);
            Reference.Evaluation ref = Reference.evaluate(g, rows, base);
            assume(ref.nearestKink() > KINK_GAP);
            EngineRun run = new EngineRun(g);
            double loss = run.run(v, rows);
            // the engine's forward loss agrees with the double reference
            if (!(Math.abs(loss - ref.loss()) <= 1e-4 * (Math.abs(ref.loss()) + 1))) {
                throw new AssertionError("loss " + loss + " from the engine vs " + ref.loss() + " in double");
            }
            Gens.Data d = c.data();
            // the largest gradient element of the whole graph: the scale of the float noise each backward op adds
            double largest = 0;
            for (String w : GraphCase.differentiable(g)) for (float x : run.grad(w, rows)) largest = Math.max(largest, Math.abs(x));
            for (String w : GraphCase.differentiable(g)) {
                float[] grad = run.grad(w, rows);
                double[] t = d.direction(grad.length);
                double analytic = 0, scale = 0;
                for (int i = 0; i < grad.length; i++) {
                    analytic += t[i] * grad[i];
                    scale += Math.abs(t[i] * grad[i]);
                }
                double lp = Reference.evaluate(g, rows, Vjp.shifted(base, w, t, H)).loss();
                double lm = Reference.evaluate(g, rows, Vjp.shifted(base, w, t, -H)).loss();
                double numeric = (lp - lm) / (2 * H);
                double tNorm = 0;
                for (double ti : t) tNorm += ti * ti;
                double tol = RTOL * (scale + Math.abs(numeric)) + NOISE * Math.sqrt(tNorm) * largest
                        + 16 * 0x1p-52 * (Math.abs(lp) + Math.abs(lm)) / (2 * H) + 1e-12;
                double err = Math.abs(analytic - numeric);
                if (!(err <= tol)) {
                    throw new AssertionError(String.format("<t, dL/d%s> = %.9g analytic vs %.9g by central differences: error %.3g > tolerance %.3g (scale %.3g)",
                            w, analytic, numeric, err, tol, scale));
                }
            }
        });
    }
}
