package dev.vgrad.bench;

import dev.vgrad.kernel.Gemm;
import dev.vgrad.runtime.SplitGemm;
import dev.vgrad.train.Trainer;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The eight GEMMs of one {@link TrainStepBench} step, alone and back to back: the MLP 784-256-256-10 at batch 128,
 * each product reading the outputs of those before it as in the step (forward fc1, fc2, out; backward out's dW and
 * dx, fc2's dW and dx, fc1's dW; the loss gradient dz3 is random), and nothing else (no bias, activation, loss or
 * update). Score: samples/s (one op = one sample),
 * on one thread the bound a training step reaches with that library's GEMMs and every other part of the step free
 * (on two, the step runs some of these products side by side and splits others by chunks, so this chain, every
 * product split over both threads, is not its bound). {@code impl}:
 * vgrad's kernels, each product split by the runtime's {@link SplitGemm}, or OpenBLAS {@code cblas_sgemm} on its
 * own threads (skipped with a note when {@code libopenblas.so.0} is missing).
 *
 * <p>{@link #paired} runs, in the same iterations, the whole training step ({@link TrainStepBench}'s trainer on the
 * same threads), then these GEMMs on vgrad and (one thread only) on OpenBLAS in alternating order, so that a slow
 * spell of the host weighs on all of them: its {@link Triple} reads samples/s of each and the step's share of each
 * bound. Run:
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar jmh/target/benchmarks.jar StepGemmsBench}
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class StepGemmsBench {
    static final int BATCH = 128, IN = 784, HIDDEN = 256, OUT = 10;

    @Param({"1", "2"})
    public int threads;

    @Param({"vgrad", "openblas"})
    public String impl;

    /**
     * {@link #paired}'s timings, per iteration: samples/s of the whole step, of its GEMMs alone on vgrad and on
     * OpenBLAS, and the step's rate over each GEMM-only rate (1 would mean the rest of the step costs nothing).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Triple {
        long stepNanos, vgradNanos, blasNanos, samples;
        boolean blasFirst;

        @Setup(Level.Iteration)
        public void reset() {
            stepNanos = vgradNanos = blasNanos = samples = 0;
        }

        private double rate(long nanos) { return nanos == 0 ? 0 : samples * 1e9 / nanos; }

        public double stepSamplesPerS() { return rate(stepNanos); }

        public double vgradGemmsSamplesPerS() { return rate(vgradNanos); }

        public double blasGemmsSamplesPerS() { return rate(blasNanos); }

        public double stepOverVgradGemms() { return stepNanos == 0 ? 0 : (double) vgradNanos / stepNanos; }

        public double stepOverBlasGemms() { return stepNanos == 0 ? 0 : (double) blasNanos / stepNanos; }
    }

    /** One product of the step: C (m x n) = op(A) op(B) in form {@link Gemm#NN}, NT or TN, row-major. */
    record Product(int form, int m, int n, int k, float[] a, float[] b, float[] c) {}

    Product[] products;
    MemorySegment[][] segments;
    Trainer trainer;
    float[] x;
    int[] labels;
    SplitGemm split;
    boolean blas, skip;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = random01(r, BATCH * IN), w1 = GemmBench.random(r, IN * HIDDEN), w2 = GemmBench.random(r, HIDDEN * HIDDEN), w3 = GemmBench.random(r, HIDDEN * OUT);
        float[] h1 = new float[BATCH * HIDDEN], h2 = new float[BATCH * HIDDEN], z3 = new float[BATCH * OUT];
        float[] dz3 = GemmBench.random(r, BATCH * OUT), dh2 = new float[BATCH * HIDDEN], dh1 = new float[BATCH * HIDDEN];
        float[] dw3 = new float[HIDDEN * OUT], dw2 = new float[HIDDEN * HIDDEN], dw1 = new float[IN * HIDDEN];
        products = new Product[] {
            // forward: h1 = x W1, h2 = h1 W2, z3 = h2 W3
            new Product(Gemm.NN, BATCH, HIDDEN, IN, x, w1, h1),
            new Product(Gemm.NN, BATCH, HIDDEN, HIDDEN, h1, w2, h2),
            new Product(Gemm.NN, BATCH, OUT, HIDDEN, h2, w3, z3),
            // backward: dW3 = h2ᵀ dz3, dh2 = dz3 W3ᵀ, dW2 = h1ᵀ dh2, dh1 = dh2 W2ᵀ, dW1 = xᵀ dh1
            new Product(Gemm.TN, HIDDEN, OUT, BATCH, h2, dz3, dw3),
            new Product(Gemm.NT, BATCH, HIDDEN, OUT, dz3, w3, dh2),
            new Product(Gemm.TN, HIDDEN, HIDDEN, BATCH, h1, dh2, dw2),
            new Product(Gemm.NT, BATCH, HIDDEN, HIDDEN, dh2, w2, dh1),
            new Product(Gemm.TN, IN, HIDDEN, BATCH, x, dh1, dw1),
        };
        if (GemmBench.Blas.SGEMM.isPresent()) {
            segments = new MemorySegment[products.length][];
            for (int i = 0; i < products.length; i++) {
                Product p = products[i];
                segments[i] = new MemorySegment[] {MemorySegment.ofArray(p.a()), MemorySegment.ofArray(p.b()), MemorySegment.ofArray(p.c())};
            }
            GemmBench.Blas.setThreads(threads);
        }
        if (impl.equals("openblas")) {
            if (segments == null) {
                System.out.println("NOTE: OpenBLAS not found (apt-get install -y libopenblas0-pthread): openblas cases skipped");
                skip = true;
                return;
            }
            blas = true;
        } else if (!impl.equals("vgrad")) {
            throw new IllegalArgumentException("impl must be vgrad or openblas, got " + impl);
        }
        split = new SplitGemm(IN, HIDDEN, IN, threads);
        checkAgreement();
        // the whole step only where paired runs it
        if (impl.equals("vgrad") && params.getBenchmark().endsWith(".paired")) {
            trainer = TrainStepBench.mlp(threads, 0);
            this.x = x;
            labels = new int[BATCH];
            for (int i = 0; i < BATCH; i++) labels[i] = r.nextInt(OUT);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public float[] gemms() {
        if (skip) return null;
        if (blas) blasChain();
        else vgradChain();
        return products[products.length - 1].c();
    }

    /**
     * The whole step, then vgrad's GEMMs alone and OpenBLAS's GEMMs alone, the two chains in alternating order: each
     * chain follows the step (which evicts its operands) in half the calls and the other chain (which leaves the
     * shared operands warm) in the other half. The vgrad rows run it; the openblas rows do nothing. On two threads,
     * or without OpenBLAS, the OpenBLAS chain is left out (its threads and vgrad's spinning workers would slow each
     * other) and reads 0; vgrad's chain then always follows the step.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public float[] paired(Triple t) {
        if (trainer == null) return null;
        long t0 = System.nanoTime();
        trainer.step(x, labels);
        long t1 = System.nanoTime();
        t.stepNanos += t1 - t0;
        boolean withBlas = threads == 1 && segments != null;
        t.blasFirst = withBlas && !t.blasFirst;
        if (t.blasFirst) t.blasNanos += blasChain();
        t.vgradNanos += vgradChain();
        if (withBlas && !t.blasFirst) t.blasNanos += blasChain();
        t.samples += BATCH;
        return products[products.length - 1].c();
    }

    // vgrad's eight products in order; returns the nanoseconds they took
    private long vgradChain() {
        long t0 = System.nanoTime();
        for (Product p : products) split.run(p.form(), p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false, null);
        return System.nanoTime() - t0;
    }

    // OpenBLAS's eight products in order; returns the nanoseconds they took
    private long blasChain() {
        long t0 = System.nanoTime();
        for (int j = 0; j < products.length; j++) blas(products[j], segments[j]);
        return System.nanoTime() - t0;
    }

    // refuse to measure wrong products: each of the chain's products by vgrad against OpenBLAS on the same operands
    // (or the scalar twin when OpenBLAS is missing), element by element within 2 k eps (|A|·|B|) of that element, the
    // sum of the two rounding-error bounds of a k-term dot product
    private void checkAgreement() {
        for (int i = 0; i < products.length; i++) {
            Product p = products[i];
            split.run(p.form(), p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false, null);
            float[] mine = p.c().clone();
            if (segments != null) blas(p, segments[i]);
            else GemmBench.scalar(p.form(), p.m(), p.n(), p.k(), p.a(), p.b(), p.c());
            float[] bound = new float[mine.length];
            GemmBench.scalar(p.form(), p.m(), p.n(), p.k(), abs(p.a()), abs(p.b()), bound);
            float tolerance = 2f * p.k() * Math.ulp(1f);
            for (int e = 0; e < mine.length; e++) {
                if (!(Math.abs(mine[e] - p.c()[e]) <= tolerance * bound[e] + Float.MIN_NORMAL)) {
                    throw new IllegalStateException("product " + i + " (form " + p.form() + ", " + p.m() + " x " + p.n() + " x " + p.k()
                            + "): vgrad and the reference disagree at " + e + ": " + mine[e] + " vs " + p.c()[e]);
                }
            }
        }
    }

    private static float[] abs(float[] v) {
        float[] a = new float[v.length];
        for (int i = 0; i < v.length; i++) a[i] = Math.abs(v[i]);
        return a;
    }

    private static void blas(Product p, MemorySegment[] s) {
        GemmBench.Blas.sgemm(p.form(), p.m(), p.n(), p.k(), s[0], s[1], s[2]);
    }

    // the step's input: [0, 1) as in TrainStepBench
    private static float[] random01(SplittableRandom r, int len) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) v[i] = (float) r.nextDouble();
        return v;
    }
}
