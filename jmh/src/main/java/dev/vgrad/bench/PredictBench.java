package dev.vgrad.bench;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.runtime.Predictor;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Serving latency: one {@code Predictor.predict} call of {@code batch} rows on an MLP with ReLU, weights
 * trained for a few steps, inputs random. One predictor is shared by every benchmark thread (each thread
 * has its own input and output arrays), as in a service. {@code trainerForward} is the same forward pass
 * through the training runtime (Executor + Gemm), the baseline: one benchmark thread, but the trainer splits its
 * GEMMs over its own threads (every core by default), where a predictor call runs on the calling thread alone.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar PredictBench.predict -prof gc          # avgt + B/op
 * java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar PredictBench.predict -p batch=1 -bm sample  # p50/p99/p99.9
 * java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar 'PredictBench.predict(TwoThreads)?$' -bm thrpt   # 1 vs 2 threads, one predictor
 * java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar PredictBench.predict -p batch=1 -p weights=f32,alt,bf16
 * </pre>
 * {@code weights}: f32 (panels front to back every call), alt (alternate order, the default), bf16 (bfloat16 weights,
 * alternate order), split (alt, and each one-row call split over two cores by a spinning helper thread), noskip (alt
 * without skipping the weight rows of zero inputs). {@code input}: random, or sparse (80% zeros, like MNIST).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class PredictBench {
    @Param({"784-256-256-10", "64-32-10"})
    public String model;

    @Param({"1", "8", "64"})
    public int batch;

    @Param({"alt"})
    public String weights;

    /** random: uniform [0, 1) features; sparse: 80% of them 0, like MNIST pixels. */
    @Param({"random"})
    public String input;

    Predictor predictor;
    Trainer trainer;
    int features, outputs;

    /** Per-thread request and response buffers. */
    @State(Scope.Thread)
    public static class Request {
        float[] x;
        float[] y;

        @Setup(Level.Trial)
        public void setup(PredictBench b) {
            SplittableRandom r = new SplittableRandom(Thread.currentThread().threadId());
            x = new float[b.batch * b.features];
            for (int i = 0; i < x.length; i++) x[i] = b.input.equals("sparse") && r.nextDouble() < 0.8 ? 0f : (float) r.nextDouble();
            y = new float[b.batch * b.outputs];
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        int[] sizes = Arrays.stream(model.split("-")).mapToInt(Integer::parseInt).toArray();
        features = sizes[0];
        outputs = sizes[sizes.length - 1];
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node h = b.input("x", 64, features);
        for (int i = 1; i < sizes.length - 1; i++) h = b.relu(b.dense("fc" + i, h, sizes[i]));
        b.softmaxCrossEntropy(b.dense("out", h, outputs));
        trainer = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 1);
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[64 * features];
        int[] labels = new int[64];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < 64; i++) labels[i] = r.nextInt(outputs);
        for (int s = 0; s < 5; s++) trainer.step(x, labels);
        Predictor.Options o = switch (weights) {
            case "f32" -> Predictor.Options.defaults().withAlternateOrder(false);
            case "alt" -> Predictor.Options.defaults().withAlternateOrder(true);
            case "bf16" -> Predictor.Options.defaults().withAlternateOrder(true).withBf16Weights(true);
            case "split" -> Predictor.Options.defaults().withSplitCores(true);
            case "noskip" -> Predictor.Options.defaults().withSkipZeros(false);
            default -> throw new IllegalArgumentException("weights: f32, alt, bf16, split or noskip, got " + weights);
        };
        predictor = trainer.predictor(o);
        // refuse to run a predictor that disagrees with the training forward pass
        float[] want = new float[64 * outputs], got = new float[64 * outputs];
        trainer.forward(x, 64, want);
        predictor.predict(x, 64, got);
        for (int i = 0; i < want.length; i++) {
            boolean ok = weights.equals("bf16") ? Math.abs(want[i] - got[i]) <= 0.05f * (1 + Math.abs(want[i])) : want[i] == got[i];
            if (!ok) throw new IllegalStateException("predictor output " + i + " = " + got[i] + ", trainer forward = " + want[i]);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        predictor.close();
    }

    @Benchmark
    public float[] predict(Request q) {
        predictor.predict(q.x, batch, q.y);
        return q.y;
    }

    /** {@link #predict} from two threads at once on the one shared predictor (compare its throughput with predict's). */
    @Benchmark
    @Threads(2)
    public float[] predictTwoThreads(Request q) {
        predictor.predict(q.x, batch, q.y);
        return q.y;
    }

    /**
     * The training runtime's forward pass on the same rows: one benchmark thread (a Trainer is not thread-safe), its
     * GEMMs split over the trainer's threads.
     */
    @Benchmark
    public float[] trainerForward(Request q) {
        trainer.forward(q.x, batch, q.y);
        return q.y;
    }
}
