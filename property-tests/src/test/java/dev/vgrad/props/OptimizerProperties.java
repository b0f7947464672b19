package dev.vgrad.props;

import static dev.vgrad.props.check.Property.assume;
import static dev.vgrad.props.check.Property.forAll;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Optimizer updates through {@link Trainer#update()} against the textbook formulas (PyTorch's
 * documentation of torch.optim.SGD, Adam and AdamW) written here in double, on random parameters,
 * gradients, states and step counts. The tolerance is measured against the same formula evaluated on
 * absolute values (the scale of the terms, which can cancel): |engine - textbook| <= 1e-6 |p| + 1e-5 |step|abs
 * for parameters and 1e-6 |state|abs for states; float rounds each of the handful of operations to
 * 6e-8 of those magnitudes, so the margin is more than 10x, while a wrong term errs by O(1).
 */
class OptimizerProperties {

    /** A linear model, so the trainer has a parameter vector of a drawn size: x (rows, k) -> dense(n) -> mse. */
    static Trainer trainer(int k, int n, Optimizer opt) {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 2, k);
        b.mse(b.dense("fc", x, n));
        return new Trainer(b.build(), opt, 1);
    }

    record Setup(int k, int n, int variant, Gens.Data data) {}

    @Test
    @DisplayName("each optimizer update equals its textbook formula on random states (SGD, momentum, Nesterov, Adam, AdamW)")
    void updatesEqualTextbookFormulas() {
        forAll(s -> new Setup(Gens.size(17).draw(s), Gens.size(17).draw(s), s.between(0, 4), Gens.data().draw(s)), c -> {
            SplittableRandom r = c.data().random();
            float lr = (float) (1e-3 + 0.2 * r.nextDouble());
            float wd = r.nextBoolean() ? 0f : (float) (0.1 * r.nextDouble());
            float mu = (float) (0.5 + 0.49 * r.nextDouble());
            float b1 = (float) (0.8 + 0.19 * r.nextDouble()), b2 = (float) (0.9 + 0.0999 * r.nextDouble()), eps = 1e-8f;
            long t = 1 + r.nextInt(200);
            Optimizer opt = switch (c.variant()) {
                case 0 -> new Optimizer.Sgd(lr, 0f, false, wd);
                case 1 -> new Optimizer.Sgd(lr, mu, false, wd);
                case 2 -> new Optimizer.Sgd(lr, mu, true, wd);
                case 3 -> new Optimizer.Adam(lr, b1, b2, eps, wd);
                default -> new Optimizer.AdamW(lr, b1, b2, eps, wd);
            };
            Trainer tr = trainer(c.k(), c.n(), opt);
            int size = tr.params().length;
            float[] p = c.data().uniform(size, 1), g = c.data().uniform(size, 1);
            float[] m = c.data().uniform(size, 0.5), v = c.data().between(size, 0, 0.5);
            System.arraycopy(p, 0, tr.params(), 0, size);
            System.arraycopy(g, 0, tr.grads(), 0, size);
            System.arraycopy(m, 0, tr.optimizerState()[0], 0, size);
            System.arraycopy(v, 0, tr.optimizerState()[1], 0, size);
            tr.setUpdates(t - 1);
            tr.update();
            for (int i = 0; i < size; i++) {
                // the textbook update, and beside it the same formula on absolute values: the scale of the
                // terms whose rounding (a few float ulps) the tolerance must allow, even when they cancel
                double pi = p[i], gi = g[i], mi = m[i], vi = v[i], p1, m1 = mi, v1 = vi, stepAbs, m1Abs = 0, v1Abs = 0;
                switch (c.variant()) {
                    case 0, 1, 2 -> {
                        double d = gi + wd * pi, dAbs = Math.abs(gi) + wd * Math.abs(pi);
                        if (c.variant() > 0) {
                            m1 = mu * mi + d;                                      // buf = mu buf + g
                            m1Abs = mu * Math.abs(mi) + dAbs;
                            d = c.variant() == 2 ? d + mu * m1 : m1;               // nesterov: g + mu buf
                            dAbs = c.variant() == 2 ? dAbs + mu * m1Abs : m1Abs;
                        }
                        p1 = pi - lr * d;
                        stepAbs = lr * dAbs;
                    }
                    default -> {
                        double d = gi, dAbs = Math.abs(gi), q = pi;
                        if (c.variant() == 3) {                                    // Adam: L2 in the gradient
                            d += wd * pi;
                            dAbs += wd * Math.abs(pi);
                        } else {
                            q = pi - lr * wd * pi;                                 // AdamW: decoupled decay
                        }
                        m1 = b1 * mi + (1 - b1) * d;
                        v1 = b2 * vi + (1 - b2) * d * d;
                        m1Abs = b1 * Math.abs(mi) + (1 - b1) * dAbs;
                        v1Abs = b2 * vi + (1 - b2) * dAbs * dAbs;
                        double c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
                        double denom = Math.sqrt(v1 / c2) + eps;
                        p1 = q - lr * (m1 / c1) / denom;
                        stepAbs = lr * (m1Abs / c1) / denom + lr * wd * Math.abs(pi);
                    }
                }
                String what = opt + " at step " + t + ", element " + i;
                check(what + " parameter", tr.params()[i], p1, 1e-6 * Math.abs(pi) + 1e-5 * stepAbs + 1e-12);
                if (c.variant() > 0) check(what + " first state", tr.optimizerState()[0][i], m1, 1e-6 * m1Abs + 1e-12);
                if (c.variant() > 2) check(what + " second state", tr.optimizerState()[1][i], v1, 1e-6 * v1Abs + 1e-12);
            }
        });
    }

    static void check(String what, double got, double want, double tol) {
        if (!(Math.abs(got - want) <= tol)) throw new AssertionError(what + ": " + got + " vs textbook " + want + " (tolerance " + tol + ")");
    }

    record Regression(Gens.Rows rows, int k, Gens.Data data) {}

    /**
     * Linear least squares is smooth and convex: L(w) = mean((X w + b - y)^2) has a gradient that is
     * Lipschitz with constant at most 2 / rows * sum_i (|x_i|^2 + 1), so a step of half its inverse lowers
     * the loss by at least lr * |g|^2 * 3/4 (the descent lemma). Cases whose gradient is too small for a
     * float loss to show the decrease are discarded.
     */
    @Test
    @DisplayName("a small-learning-rate SGD step lowers the loss of a least-squares problem")
    void smallSgdStepLowersConvexLoss() {
        forAll(s -> new Regression(Gens.rows(17).draw(s), Gens.size(40).draw(s), Gens.data().draw(s)), c -> {
            int batch = c.rows().batch(), rows = c.rows().rows(), k = c.k();
            float[] x = c.data().uniform(batch * k, 1), y = c.data().uniform(batch, 2);
            double lip = 0;
            for (int i = 0; i < rows; i++) {
                lip += 1;
                for (int j = 0; j < k; j++) lip += (double) x[i * k + j] * x[i * k + j];
            }
            float lr = (float) (0.5 / (2.0 / rows * lip));
            GraphBuilder b = Graph.builder();
            b.mse(b.dense("fc", b.input("x", batch, k), 1));
            Trainer tr = new Trainer(b.build(), new Optimizer.Sgd(lr), c.data().random().nextLong());
            double before = tr.gradients(x, y, rows);
            double g2 = 0;
            for (float gi : tr.grads()) g2 += (double) gi * gi;
            assume(lr * g2 * 0.75 > 1e-5 * (before + 1e-3));
            double stepLoss = tr.step(x, y, rows);
            double after = tr.loss(x, y, rows);
            if (stepLoss != before) throw new AssertionError("step returned " + stepLoss + ", the loss before the update was " + before);
            if (!(after < before)) throw new AssertionError("loss " + before + " -> " + after + " after an SGD step of lr " + lr);
        });
    }
}
