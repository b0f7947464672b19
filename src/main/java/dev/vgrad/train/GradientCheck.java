package dev.vgrad.train;

import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Op;
import dev.vgrad.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Checks a model's gradients on a batch: the analytic gradient the engine computes (backward pass)
 * against central finite differences of the loss, taken through the engine itself, in float:
 * {@code (L(p + h) - L(p - h)) / (2h)} for each probed element of each parameter (and of the input,
 * when it was built with {@code requiresGrad}).
 *
 * <pre>{@code
 * GradientCheck.Report r = GradientCheck.check(trainer, x, labels, rows);
 * System.out.println(r);          // one line per tensor: errors, worst element, ok / FAILED
 * if (!r.passed()) ...
 * }</pre>
 *
 * <p><b>Tolerance.</b> An element passes when {@code |a - n| <= abs + rel * max(|a|, |n|)}. The defaults
 * (h = 1e-2, rel = 1e-2, abs = 1e-4) suit losses of order 1 and parameters of order 0.1-1: the loss is
 * a float computation, so its rounding noise (about 1e-7 |L|) divided by 2h gives about 5e-6 |L|, and the
 * truncation error of the central difference, h^2 / 6 |L'''|, is about 2e-5 |L'''|; a smaller h drowns
 * the difference in rounding, a larger one in curvature. A wrong derivative rule errs by O(1) relative.
 * Where h straddles a kink (a relu input within h of 0) the difference quotient is not a derivative and
 * a few elements may fail; rerun with a smaller step or look at the worst element the report names.
 *
 * <p>The check leaves parameters exactly as it found them (each is restored bitwise after its two
 * evaluations) and does not update the optimizer; it overwrites the trainer's gradients and arena.
 * It costs two forward passes per probed element: large tensors are sampled
 * ({@link Options#maxElements()} per tensor, always including the element with the largest gradient).
 */
public final class GradientCheck {
    private GradientCheck() {}

    /**
     * How to check: the finite-difference step, the tolerances, how many elements to probe per tensor
     * (the rest are skipped; 0 or less probes all) and the seed that picks them.
     */
    public record Options(float step, double absTolerance, double relTolerance, int maxElements, long seed) {
        public Options {
            if (!(step > 0f) || Float.isInfinite(step)) throw new IllegalArgumentException("gradient check: step must be positive and finite, got " + step);
            if (!(absTolerance >= 0) || !(relTolerance >= 0)) {
                throw new IllegalArgumentException("gradient check: tolerances must be >= 0, got abs " + absTolerance + ", rel " + relTolerance);
            }
        }

        /** h = 1e-2, abs 1e-4, rel 1e-2, at most 64 elements per tensor, seed 1. */
        public static Options defaults() { return new Options(1e-2f, 1e-4, 1e-2, 64, 1); }

        public Options withStep(float h) { return new Options(h, absTolerance, relTolerance, maxElements, seed); }

        public Options withTolerance(double abs, double rel) { return new Options(step, abs, rel, maxElements, seed); }

        public Options withMaxElements(int n) { return new Options(step, absTolerance, relTolerance, n, seed); }
    }

    /**
     * The result for one tensor: how many elements were probed, the largest absolute and relative errors,
     * the worst element (the one furthest beyond its tolerance) with its analytic and numeric values,
     * and whether every probed element passed.
     */
    public record TensorReport(String name, Shape shape, int checked, int failed, double maxAbsError, double maxRelError,
                               int worstIndex, double analytic, double numeric, boolean passed) {
        /** The worst element as (row, column). */
        public String worstElement() { return "[" + worstIndex / shape.cols() + ", " + worstIndex % shape.cols() + "]"; }

        @Override
        public String toString() {
            return String.format("%-20s %-12s %5d/%-6d max abs %.2e  max rel %.2e  worst %s analytic %.6g numeric %.6g  %s",
                    name, shape, checked, shape.size(), maxAbsError, maxRelError, worstElement(), analytic, numeric,
                    passed ? "ok" : "FAILED (" + failed + " elements)");
        }
    }

    /** The check of one batch: the loss at the unperturbed parameters and one report per tensor. */
    public record Report(double loss, int rows, List<TensorReport> tensors, Options options) {
        public Report {
            tensors = List.copyOf(tensors);
        }

        /** True when every probed element of every tensor is within tolerance. */
        public boolean passed() { return tensors.stream().allMatch(TensorReport::passed); }

        public TensorReport tensor(String name) {
            for (TensorReport t : tensors) if (t.name().equals(name)) return t;
            throw new IllegalArgumentException("no tensor '" + name + "' in the report (" + tensors.stream().map(TensorReport::name).toList() + ")");
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("gradient check: %s, loss %.6g on %d rows, h %s, tolerance %.1e + %.1e |g|%n",
                    passed() ? "passed" : "FAILED", loss, rows, options.step(), options.absTolerance(), options.relTolerance()));
            for (TensorReport t : tensors) sb.append("  ").append(t).append('\n');
            return sb.toString();
        }
    }

    /** Checks the gradients of a classifier (softmax cross-entropy) on the first rows of x and labels. */
    public static Report check(Trainer t, float[] x, int[] labels, int rows) { return check(t, x, labels, rows, Options.defaults()); }

    public static Report check(Trainer t, float[] x, int[] labels, int rows, Options o) {
        int[] y = labels.clone();
        return run(t, x, rows, o, in -> t.gradients(in, y, rows), in -> t.loss(in, y, rows), null);
    }

    /** Checks the gradients of a model with float targets (mse, bce-with-logits) on the first rows. */
    public static Report check(Trainer t, float[] x, float[] targets, int rows) { return check(t, x, targets, rows, Options.defaults()); }

    public static Report check(Trainer t, float[] x, float[] targets, int rows, Options o) {
        float[] y = targets.clone();
        return run(t, x, rows, o, in -> t.gradients(in, y, rows), in -> t.loss(in, y, rows), null);
    }

    /** A loss of the trainer on an input. */
    interface Loss {
        double of(float[] x);
    }

    /**
     * The check itself; {@code analyticHook} (tests only) may alter the analytic gradients after they are
     * read, to show that a wrong gradient is caught.
     */
    static Report run(Trainer t, float[] x, int rows, Options o, Loss gradients, Loss loss, Consumer<float[]> analyticHook) {
        Plan plan = t.plan();
        float[] in = x.clone();
        double l0 = gradients.of(in);
        float[] grads = t.grads().clone();
        Slot inputGrad = inputGradient(plan);
        float[] dx = inputGrad == null ? null : t.inputGrad(inputGrad.name());
        if (analyticHook != null) analyticHook.accept(grads);
        SplittableRandom pick = new SplittableRandom(o.seed());
        List<TensorReport> reports = new ArrayList<>();
        float[] params = t.params();
        for (Slot s : plan.params()) {
            float[] a = Arrays.copyOfRange(grads, s.offset(), s.offset() + s.size());
            reports.add(tensor(s.name(), s.shape(), a, params, s.offset(), o, pick, () -> loss.of(in)));
        }
        if (dx != null) {
            int n = rows * inputGrad.shape().cols();
            reports.add(tensor(inputGrad.name(), Shape.batch(rows, inputGrad.shape().cols()), Arrays.copyOf(dx, n), in, 0, o, pick, () -> loss.of(in)));
        }
        return new Report(l0, rows, reports, o);
    }

    /** The gradient slot of the input the trainer feeds, when the graph has exactly one input and it asked for a gradient. */
    private static Slot inputGradient(Plan plan) {
        long inputs = plan.graph().nodes().stream().filter(n -> n.op() == Op.INPUT).count();
        if (inputs != 1 || plan.inputGrads().size() != 1) return null;
        return plan.inputGrads().get(0);
    }

    /** Probes elements of one tensor living at values[off ..]: perturbs each by +-h, evaluates, restores it. */
    private static TensorReport tensor(String name, Shape shape, float[] analytic, float[] values, int off, Options o, SplittableRandom pick,
                                       java.util.function.DoubleSupplier loss) {
        int n = analytic.length;
        int[] idx = probes(analytic, o.maxElements(), pick);
        double maxAbs = 0, maxRel = 0, worstRatio = -1, worstA = 0, worstN = 0;
        int worst = idx.length == 0 ? 0 : idx[0], failed = 0;
        for (int i : idx) {
            float orig = values[off + i];
            float up = orig + o.step(), down = orig - o.step();
            values[off + i] = up;
            double lp = loss.getAsDouble();
            values[off + i] = down;
            double lm = loss.getAsDouble();
            values[off + i] = orig;
            // divide by the perturbation float actually made, not by the nominal 2h
            double numeric = (lp - lm) / ((double) up - (double) down);
            double a = analytic[i];
            double abs = Math.abs(a - numeric), mag = Math.max(Math.abs(a), Math.abs(numeric));
            double rel = mag == 0 ? 0 : abs / mag;
            double allowed = o.absTolerance() + o.relTolerance() * mag;
            double ratio = allowed == 0 ? (abs == 0 ? 0 : Double.POSITIVE_INFINITY) : abs / allowed;
            if (!(abs <= allowed)) failed++;
            maxAbs = Math.max(maxAbs, abs);
            maxRel = Math.max(maxRel, rel);
            if (ratio > worstRatio || Double.isNaN(ratio)) {
                worstRatio = Double.isNaN(ratio) ? Double.POSITIVE_INFINITY : ratio;
                worst = i;
                worstA = a;
                worstN = numeric;
            }
        }
        return new TensorReport(name, shape, idx.length, failed, maxAbs, maxRel, worst, worstA, worstN, failed == 0);
    }

    /** All indices, or a seeded sample of max of them that always includes the largest |gradient|. */
    private static int[] probes(float[] g, int max, SplittableRandom pick) {
        int n = g.length;
        if (max <= 0 || n <= max) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        int largest = 0;
        for (int i = 1; i < n; i++) if (Math.abs(g[i]) > Math.abs(g[largest])) largest = i;
        // partial Fisher-Yates over 0..n-1 with the largest swapped to the front
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        perm[largest] = 0;
        perm[0] = largest;
        for (int i = 1; i < max; i++) {
            int j = i + pick.nextInt(n - i);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        int[] r = Arrays.copyOf(perm, max);
        Arrays.sort(r);
        return r;
    }
}
