package dev.vgrad.bench;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Telemetry;
import dev.vgrad.train.Trainer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step (forward, softmax cross-entropy, backward, SGD update) of the MLP 784-256-256-10
 * with ReLU at batch 128 on random data, its GEMMs split over {@code threads} threads. Score:
 * samples/s (one op = one sample). Run:
 * {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar TrainStepBench -prof gc}
 * (gc.alloc.rate.norm is bytes per sample: the target is 0). {@code telemetry}: per-layer telemetry at its
 * default interval ("on"), off, or sampled on every step ("every", {@code -p telemetry=every}). {@code busy}: threads
 * of the benchmark's own that spin on arithmetic meanwhile ({@code -p busy=1}), as other work in a service or on a
 * shared machine does, so that the cores are oversubscribed (default 0). {@code profile}: "on" prints where the last
 * iteration's steps spent their time, plan step by plan step ({@code -p profile=on}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainStepBench {
    static final int BATCH = 128;

    /** Threads each GEMM is split over (the engine's worker pool). */
    @Param({"1", "2"})
    public int threads;

    @Param({"on", "off"})
    String telemetry;

    /** Busy threads beside the trainer, each spinning on register arithmetic until the trial ends. */
    @Param({"0"})
    public int busy;

    /**
     * "on": profile each measurement iteration's steps ({@code Trainer.startProfile}) and print the last one's table
     * (each plan step's time, the update's and the rest) when the trial ends; default off.
     */
    @Param({"off"})
    public String profile;

    Trainer trainer;
    private volatile boolean stop;
    private Thread[] busyThreads;
    float[] x;
    int[] labels;

    @Setup(Level.Trial)
    public void setup() {
        trainer = mlp(threads, switch (telemetry) {
            case "on" -> Telemetry.DEFAULT_INTERVAL;
            case "off" -> 0;
            case "every" -> 1;
            default -> throw new IllegalArgumentException("telemetry must be on, off or every, got " + telemetry);
        });
        SplittableRandom r = new SplittableRandom(7);
        x = new float[BATCH * 784];
        labels = new int[BATCH];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
        for (int i = 0; i < BATCH; i++) labels[i] = r.nextInt(10);
        // refuse to benchmark a step that does not learn: the loss must fall on a fixed batch
        double first = trainer.step(x, labels);
        double last = first;
        for (int i = 0; i < 20; i++) last = trainer.step(x, labels);
        if (!(last < first)) throw new IllegalStateException("training step does not lower the loss: " + first + " -> " + last);
        busyThreads = new Thread[busy];
        for (int t = 0; t < busy; t++) {
            busyThreads[t] = Thread.ofPlatform().daemon().name("busy-" + t).start(() -> {
                double z = 1;
                while (!stop) {
                    for (int i = 0; i < 1000; i++) z = z * 1.0000001 + 1e-9;
                }
                if (z == 42) System.out.println(z); // keeps the loop
            });
        }
    }

    /** The benchmark's model: MLP 784-256-256-10, ReLU, softmax cross-entropy, SGD(0.01), batch 128, seed 1. */
    static Trainer mlp(int threads, int telemetryInterval) {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node in = b.input("x", BATCH, 784);
        Node h = b.relu(b.dense("fc1", in, 256));
        h = b.relu(b.dense("fc2", h, 256));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), 1);
        t.setThreads(threads);
        t.telemetry().setInterval(telemetryInterval);
        return t;
    }

    @Setup(Level.Iteration)
    public void startProfile() {
        if (profile.equals("on")) trainer.startProfile();
        else if (!profile.equals("off")) throw new IllegalArgumentException("profile must be on or off, got " + profile);
    }

    @TearDown(Level.Trial)
    public void stopBusyThreads() throws InterruptedException {
        stop = true;
        for (Thread t : busyThreads) t.join();
        if (trainer.profiling()) System.out.print(System.lineSeparator() + trainer.stopProfile().describe());
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public double step() {
        return trainer.step(x, labels);
    }
}
