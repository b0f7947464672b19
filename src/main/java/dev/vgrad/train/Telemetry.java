package dev.vgrad.train;

import dev.vgrad.compile.BufferInfo;
import dev.vgrad.compile.Operand;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.compile.Step;
import dev.vgrad.compile.StepKind;
import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Reductions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Per-layer training telemetry, sampled every {@link #interval()} steps (on by default, every
 * {@value #DEFAULT_INTERVAL} steps). For each dense layer (its weight and bias together):
 * <ul>
 *   <li>gradient L2 norm ‖∂L/∂θ‖, weight norm ‖θ‖ (before the update) and update-to-weight ratio
 *       ‖Δθ‖/‖θ‖ — summed inside the optimizer's update pass ({@code Optimizers.*Observed});</li>
 *   <li>activation mean over the batch and, by activation: the fraction of saturated values (sigmoid
 *       outside [0.01, 0.99], tanh outside [-0.99, 0.99]) or of dead units (ReLU / leaky ReLU: a unit
 *       whose output is &lt;= 0 on every row of the batch) — one pass over the layer's output, which is
 *       still in the arena right after the forward pass.</li>
 * </ul>
 * Nothing is allocated while sampling: the sums go to arrays sized here. A sampled step calls the
 * {@link Listener}, if any, which can read the values ({@link #gradNorm} ...).
 *
 * <p>Vanishing gradients: when a layer's gradient norm stays below {@link #vanishingThreshold()} times
 * the last layer's for {@link #vanishingWindow()} steps, one warning names the layers and ratios.
 */
public final class Telemetry {
    /** Default sampling interval, in steps. */
    public static final int DEFAULT_INTERVAL = 10;
    /** Default vanishing threshold: a layer's gradient norm below this fraction of the last layer's. */
    public static final double DEFAULT_VANISHING_THRESHOLD = 1e-3;
    /** Default vanishing window, in steps: how long the ratio must stay below the threshold. */
    public static final int DEFAULT_VANISHING_WINDOW = 100;
    /** Sigmoid outputs outside [SAT_LO, SAT_HI] and tanh outputs outside [-SAT_HI, SAT_HI] count as saturated. */
    public static final float SAT_LO = 0.01f, SAT_HI = 0.99f;

    /** Called after each sampled step; read the values from the telemetry. Runs on the training thread. */
    @FunctionalInterface
    public interface Listener {
        void sampled(Telemetry telemetry, long step);
    }

    private final String[] layers;
    // parameter segments: one per parameter slot, in PARAMS order, each adding to its layer's sums (or to scratch)
    private final int[] segOffset, segSize, segStats;
    private final double[] stats; // per layer: sum g^2, sum p^2, sum dp^2; one extra scratch triple for parameters outside layers
    // per layer, the forward output that telemetry reads: offset in the arena, columns, activation; -1 when not readable
    private final int[] actOffset, actCols;
    private final Activation[] actKind;
    private final float[] colScratch;
    // latest sample, per layer
    private final double[] gradNorm, weightNorm, updateRatio, actMean, saturated, dead;
    private final int[] below;

    private int interval = DEFAULT_INTERVAL;
    private double vanishingThreshold = DEFAULT_VANISHING_THRESHOLD;
    private int vanishingWindow = DEFAULT_VANISHING_WINDOW;
    private Listener listener;
    private Consumer<String> warnings = m -> System.err.println("warning: " + m);
    private String vanishingWarning;
    private boolean observing;
    private long lastStep = -1;
    private int samples;

    Telemetry(Plan plan) {
        // the dense layers, in forward order
        List<String> names = new ArrayList<>();
        for (Step st : plan.steps()) {
            if (st.backward()) break;
            if (st.kind() == StepKind.DENSE && st.layer() != null && !names.contains(st.layer())) names.add(st.layer());
        }
        layers = names.toArray(new String[0]);
        int nl = layers.length;
        stats = new double[3 * (nl + 1)];
        List<Slot> slots = plan.params();
        segOffset = new int[slots.size()];
        segSize = new int[slots.size()];
        segStats = new int[slots.size()];
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            segOffset[i] = s.offset();
            segSize[i] = s.size();
            int l = names.indexOf(s.node().layer());
            segStats[i] = 3 * (l < 0 ? nl : l);
        }
        // each layer's output: the last forward DENSE or ACTIVATION step of the layer; readable after the
        // forward pass only if its buffer lives to the loss step (nothing can have overwritten it)
        actOffset = new int[nl];
        actCols = new int[nl];
        actKind = new Activation[nl];
        int maxCols = 1;
        for (int l = 0; l < nl; l++) {
            actOffset[l] = -1;
            actKind[l] = Activation.IDENTITY;
            for (int s = 0; s < plan.forwardSteps(); s++) {
                Step st = plan.steps().get(s);
                if (!layers[l].equals(st.layer())) continue;
                Operand out = st.kind() == StepKind.DENSE ? st.operand(3) : st.kind() == StepKind.ACTIVATION ? st.operand(1) : null;
                if (out == null) continue;
                actOffset[l] = livesToLoss(plan, out) ? out.offset() : -1;
                actCols[l] = st.cols();
                actKind[l] = st.activation();
            }
            maxCols = Math.max(maxCols, actCols[l]);
        }
        colScratch = new float[maxCols];
        gradNorm = new double[nl];
        weightNorm = new double[nl];
        updateRatio = new double[nl];
        actMean = new double[nl];
        saturated = new double[nl];
        dead = new double[nl];
        below = new int[nl];
        java.util.Arrays.fill(gradNorm, Double.NaN);
        java.util.Arrays.fill(weightNorm, Double.NaN);
        java.util.Arrays.fill(updateRatio, Double.NaN);
        java.util.Arrays.fill(actMean, Double.NaN);
        java.util.Arrays.fill(saturated, Double.NaN);
        java.util.Arrays.fill(dead, Double.NaN);
    }

    private static boolean livesToLoss(Plan plan, Operand out) {
        for (BufferInfo b : plan.buffers()) {
            if (b.name().equals(out.name()) && b.offset() == out.offset()) return b.last() >= plan.lossStep();
        }
        return false;
    }

    // ---- settings ----

    /** Sampling interval in steps; 0 means off. */
    public int interval() { return interval; }

    /** Samples every {@code steps} steps (step 0 included); 0 switches telemetry off. */
    public Telemetry setInterval(int steps) {
        if (steps < 0) throw new IllegalArgumentException("telemetry interval must be >= 0 steps (0 = off), got " + steps);
        this.interval = steps;
        return this;
    }

    public boolean enabled() { return interval > 0; }

    public double vanishingThreshold() { return vanishingThreshold; }

    public int vanishingWindow() { return vanishingWindow; }

    /** Warns when a layer's gradient norm stays below {@code threshold} x the last layer's for {@code windowSteps} steps. */
    public Telemetry setVanishing(double threshold, int windowSteps) {
        if (!(threshold > 0 && threshold < 1)) throw new IllegalArgumentException("vanishing threshold must be in (0, 1), got " + threshold);
        if (windowSteps < 1) throw new IllegalArgumentException("vanishing window must be >= 1 step, got " + windowSteps);
        this.vanishingThreshold = threshold;
        this.vanishingWindow = windowSteps;
        return this;
    }

    public Telemetry setListener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Where warnings go (default: standard error). */
    public Telemetry setWarnings(Consumer<String> sink) {
        this.warnings = java.util.Objects.requireNonNull(sink, "warnings");
        return this;
    }

    // ---- values of the latest sample ----

    /** The dense layers, in forward order (index = layer index of the getters). */
    public List<String> layers() { return List.of(layers); }

    public int layerCount() { return layers.length; }

    /** The step of the latest sample, or -1 before the first. */
    public long lastStep() { return lastStep; }

    /** How many steps were sampled. */
    public int samples() { return samples; }

    /** ‖∂L/∂θ‖ over the layer's parameters. */
    public double gradNorm(int layer) { return gradNorm[layer]; }

    /** ‖θ‖ over the layer's parameters, before the update. */
    public double weightNorm(int layer) { return weightNorm[layer]; }

    /** ‖Δθ‖ / ‖θ‖: the size of the optimizer's update relative to the weights. */
    public double updateRatio(int layer) { return updateRatio[layer]; }

    /** Mean of the layer's output (after its activation) over the batch; NaN when not readable. */
    public double activationMean(int layer) { return actMean[layer]; }

    /** Fraction of saturated outputs (sigmoid, tanh); NaN for other activations. */
    public double saturatedFraction(int layer) { return saturated[layer]; }

    /** Fraction of dead units, output <= 0 on every row (ReLU, leaky ReLU); NaN for other activations. */
    public double deadFraction(int layer) { return dead[layer]; }

    /** The layer's activation as compiled (identity for a linear output layer). */
    public Activation activation(int layer) { return actKind[layer]; }

    /** The vanishing-gradient warning, once given; null before. */
    public String vanishingWarning() { return vanishingWarning; }

    // ---- called by the Trainer ----

    /** Whether step {@code step} is sampled; starts the sample if so. */
    boolean begin(long step) {
        observing = interval > 0 && step % interval == 0;
        if (observing) java.util.Arrays.fill(stats, 0.0);
        return observing;
    }

    /** True between {@link #begin} and {@link #finish} of a sampled step: the update adds to the sums. */
    boolean observing() { return observing; }

    int segments() { return segOffset.length; }

    int segmentOffset(int i) { return segOffset[i]; }

    int segmentSize(int i) { return segSize[i]; }

    int segmentStats(int i) { return segStats[i]; }

    double[] stats() { return stats; }

    /** Right after the forward pass of a sampled step: reads each layer's output on {@code rows} rows. */
    void activations(float[] arena, int rows) {
        for (int l = 0; l < layers.length; l++) {
            int off = actOffset[l];
            if (off < 0) continue;
            int cols = actCols[l];
            int n = rows * cols;
            actMean[l] = Reductions.sum(arena, off, n) / n;
            switch (actKind[l]) {
                case SIGMOID -> saturated[l] = Reductions.countOutside(arena, off, n, SAT_LO, SAT_HI) / (double) n;
                case TANH -> saturated[l] = Reductions.countOutside(arena, off, n, -SAT_HI, SAT_HI) / (double) n;
                case RELU, LEAKY_RELU -> {
                    Reductions.colMax(rows, cols, arena, off, colScratch, 0);
                    int alive = Reductions.countOutside(colScratch, 0, cols, Float.NEGATIVE_INFINITY, 0f); // max > 0
                    dead[l] = (cols - alive) / (double) cols;
                }
                default -> { }
            }
        }
    }

    /** After the update of a sampled step: norms from the sums, the vanishing check, the listener. */
    void finish(long step) {
        observing = false;
        int nl = layers.length;
        for (int l = 0; l < nl; l++) {
            gradNorm[l] = Math.sqrt(stats[3 * l]);
            weightNorm[l] = Math.sqrt(stats[3 * l + 1]);
            updateRatio[l] = weightNorm[l] > 0 ? Math.sqrt(stats[3 * l + 2]) / weightNorm[l] : Double.NaN;
        }
        lastStep = step;
        samples++;
        checkVanishing(step);
        if (listener != null) listener.sampled(this, step);
    }

    private void checkVanishing(long step) {
        int nl = layers.length;
        if (nl < 2) return;
        double last = gradNorm[nl - 1];
        int need = Math.max(1, (vanishingWindow + interval - 1) / interval);
        boolean fire = false;
        for (int l = 0; l < nl - 1; l++) {
            boolean low = last > 0 && gradNorm[l] < vanishingThreshold * last;
            below[l] = low ? below[l] + 1 : 0;
            fire |= below[l] >= need;
        }
        if (!fire || vanishingWarning != null) return;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "vanishing gradients at step %d: ", step));
        boolean first = true;
        for (int l = 0; l < nl - 1; l++) {
            if (below[l] < need) continue;
            if (!first) sb.append(", ");
            first = false;
            sb.append(String.format(Locale.ROOT, "layer '%s' gradient norm %.3g is %.2g of the last layer's", layers[l], gradNorm[l],
                    gradNorm[l] / last));
        }
        sb.append(String.format(Locale.ROOT, " ('%s', %.3g), below %.0e for %d steps; try ReLU with He initialisation, fewer "
                + "saturating layers, or a residual path", layers[nl - 1], last, vanishingThreshold, (long) need * interval));
        vanishingWarning = sb.toString();
        warnings.accept(vanishingWarning);
    }
}
