package dev.vgrad.train.demo;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Telemetry;
import dev.vgrad.train.Trainer;
import java.util.List;

/**
 * The vanishing gradient, shown on the smallest deep network: five layers of one unit each,
 * dense(1) + activation, x5, trained with SGD and mean squared error to map x in [-1, 1] to 0.2 (x &lt; 0)
 * or 0.8 (x &gt; 0). With sigmoids every layer multiplies the gradient by sigma'(z) w, and sigma' &lt;= 1/4:
 * the first layer gets a small fraction of the last one's gradient. ReLU with He initialisation passes
 * it through unchanged where the unit is active; tanh (tanh' &lt;= 1) decays less than sigmoid.
 */
public final class VanishingDemo {
    private VanishingDemo() {}

    public static final int LAYERS = 5;
    public static final int ROWS = 32;

    /** The three networks the demo compares. */
    public enum Variant {
        SIGMOID("sigmoid", Activation.SIGMOID, Init.GLOROT_UNIFORM, 0.5f),
        RELU_HE("relu-he", Activation.RELU, Init.HE_UNIFORM, 0.01f),
        TANH("tanh", Activation.TANH, Init.GLOROT_UNIFORM, 0.1f);

        private final String id;
        private final Activation activation;
        private final Init init;
        private final float learningRate;

        Variant(String id, Activation activation, Init init, float learningRate) {
            this.id = id;
            this.activation = activation;
            this.init = init;
            this.learningRate = learningRate;
        }

        public String id() { return id; }
        public Activation activation() { return activation; }
        public Init init() { return init; }
        /**
         * The demo's rate for this variant: the ReLU chain's gradients are ~100x the sigmoid's at step 0 and a
         * large step kills its single units, so it trains at 0.01; sigmoid gets 0.5, its best chance.
         */
        public float learningRate() { return learningRate; }
    }

    /**
     * One variant's run. {@code gradStart[l]} and {@code gradEnd[l]}: the gradient norm of layer l
     * (weight and bias, l = 0 nearest the input) at step 0 and at the last step; {@code history[l][k]}:
     * at step {@code k * every}; {@code losses[s]}: the loss of step s.
     */
    public record Result(Variant variant, long seed, float learningRate, List<String> layers, double[] gradStart, double[] gradEnd, double[][] history,
                         int every, double[] losses) {
        /** gradStart[l] / gradStart[last]: how much of the last layer's gradient reaches layer l at step 0. */
        public double startRatio(int l) { return gradStart[l] / gradStart[gradStart.length - 1]; }

        public double endRatio(int l) { return gradEnd[l] / gradEnd[gradEnd.length - 1]; }
    }

    /** The network: x (rows, 1) -> [dense "l1..l5" (1 unit) + activation] x 5 -> mse against targets. */
    public static Graph graph(Variant v, int rows) {
        GraphBuilder b = Graph.builder().defaultInit(v.init());
        Node h = b.input("x", rows, 1);
        for (int l = 1; l <= LAYERS; l++) h = b.activation(v.activation(), b.dense("l" + l, h, 1));
        b.mse(h);
        return b.build();
    }

    /** The task: x evenly spaced in [-1, 1]. */
    public static float[] inputs(int rows) {
        float[] x = new float[rows];
        for (int i = 0; i < rows; i++) x[i] = -1f + 2f * i / (rows - 1);
        return x;
    }

    /** The targets: 0.2 for x &lt; 0, 0.8 for x &gt; 0. */
    public static float[] targets(float[] x) {
        float[] t = new float[x.length];
        for (int i = 0; i < x.length; i++) t[i] = x[i] > 0 ? 0.8f : 0.2f;
        return t;
    }

    /** A trainer for the variant with the demo's seeding rule (see {@link #run}). */
    public static Trainer trainer(Variant v, float lr, long seed) {
        Trainer t = new Trainer(graph(v, ROWS), new Optimizer.Sgd(lr), seed);
        t.telemetry().setWarnings(m -> { });
        return t;
    }

    /**
     * Trains the variant for {@code steps} steps at learning rate {@code lr}. A chain of single ReLU
     * units is dead when any weight after the first is negative (its input is never positive), and then
     * no gradient flows at all: for ReLU the demo takes the first seed from {@code seed} on whose chain is
     * alive at step 0, and reports it.
     */
    public static Result run(Variant v, int steps, float lr, long seed) {
        float[] x = inputs(ROWS), y = targets(x);
        long s = seed;
        if (v == Variant.RELU_HE) {
            for (; s < seed + 1000; s++) {
                Trainer probe = trainer(v, lr, s);
                probe.gradients(x, y, ROWS);
                if (probe.grad("l1.W")[0] != 0f) break;
            }
        }
        Trainer t = trainer(v, lr, s);
        int every = Math.max(1, steps / 100);
        Telemetry tel = t.telemetry().setInterval(every);
        int samples = (steps + every - 1) / every;
        double[][] history = new double[LAYERS][samples];
        double[] start = new double[LAYERS], end = new double[LAYERS];
        tel.setListener((te, step) -> {
            int k = (int) (step / every);
            for (int l = 0; l < LAYERS; l++) {
                double g = te.gradNorm(l);
                if (k < samples) history[l][k] = g;
                if (step == 0) start[l] = g;
            }
        });
        double[] losses = new double[steps];
        for (int i = 0; i < steps; i++) losses[i] = t.step(x, y, ROWS);
        // the last step's gradients: one more pass without an update
        t.gradients(x, y, ROWS);
        for (int l = 0; l < LAYERS; l++) {
            float[] gw = t.grad("l" + (l + 1) + ".W"), gb = t.grad("l" + (l + 1) + ".b");
            end[l] = Math.hypot(gw[0], gb[0]);
        }
        return new Result(v, s, lr, tel.layers(), start, end, history, every, losses);
    }

    /** The three variants, each at its {@link Variant#learningRate()}. */
    public static List<Result> runAll(int steps, long seed) {
        List<Result> r = new java.util.ArrayList<>();
        for (Variant v : Variant.values()) r.add(run(v, steps, v.learningRate(), seed));
        return List.copyOf(r);
    }

    /** A printable table: per layer, the gradient norm at step 0 and after training, and its ratio to the last layer's. */
    public static String report(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        for (Result r : results) {
            sb.append(String.format(java.util.Locale.ROOT, "%s (seed %d, lr %s, %d steps): loss %.4f -> %.4f%n", r.variant().id(), r.seed(),
                    r.learningRate(), r.losses().length, r.losses()[0], r.losses()[r.losses().length - 1]));
            sb.append(String.format(java.util.Locale.ROOT, "  %-6s %12s %12s %12s %12s%n", "layer", "|g| step 0", "vs last", "|g| end", "vs last"));
            for (int l = 0; l < r.layers().size(); l++) {
                sb.append(String.format(java.util.Locale.ROOT, "  %-6s %12.3e %12.3e %12.3e %12.3e%n", r.layers().get(l), r.gradStart()[l],
                        r.startRatio(l), r.gradEnd()[l], r.endRatio(l)));
            }
        }
        return sb.toString();
    }

    public static void main(String[] args) {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        System.out.print(report(runAll(steps, 1)));
    }
}
