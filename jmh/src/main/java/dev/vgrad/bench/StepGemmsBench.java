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

/**
 * The eight GEMMs of one {@link TrainStepBench} step, alone and back to back: the MLP 784-256-256-10 at batch 128,
 * each product's output feeding the next as in the step (forward fc1, fc2, out; backward out's dW and dx, fc2's dW
 * and dx, fc1's dW), and nothing else (no bias, activation, loss or update). Score: samples/s (one op = one sample),
 * the bound a training step reaches with that library's GEMMs and every other part of the step free. {@code impl}:
 * vgrad's kernels split as the runtime splits a step's ({@link SplitGemm}), or OpenBLAS {@code cblas_sgemm} on its
 * own threads (skipped with a note when {@code libopenblas.so.0} is missing).
 *
 * <p>{@link #paired} runs in turn, in the same iterations, the whole training step ({@link TrainStepBench}'s
 * trainer on the same threads), these GEMMs on vgrad and (one thread only) these GEMMs on OpenBLAS, so that a slow
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
        int turn;

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
    MemorySegment[][] segments, pairedSegments;
    Trainer trainer;
    float[] x;
    int[] labels;
    SplitGemm split;
    boolean skip;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = random01(r, BATCH * IN), w1 = random(r, IN * HIDDEN), w2 = random(r, HIDDEN * HIDDEN), w3 = random(r, HIDDEN * OUT);
        float[] h1 = new float[BATCH * HIDDEN], h2 = new float[BATCH * HIDDEN], z3 = new float[BATCH * OUT];
        float[] dz3 = random(r, BATCH * OUT), dh2 = new float[BATCH * HIDDEN], dh1 = new float[BATCH * HIDDEN];
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
            pairedSegments = new MemorySegment[products.length][];
            for (int i = 0; i < products.length; i++) {
                Product p = products[i];
                pairedSegments[i] = new MemorySegment[] {MemorySegment.ofArray(p.a()), MemorySegment.ofArray(p.b()), MemorySegment.ofArray(p.c())};
            }
            GemmBench.Blas.setThreads(threads);
        }
        if (impl.equals("openblas")) {
            if (GemmBench.Blas.SGEMM.isEmpty()) {
                System.out.println("NOTE: OpenBLAS not found (apt-get install -y libopenblas0-pthread): openblas cases skipped");
                skip = true;
                return;
            }
            segments = pairedSegments;
        } else if (!impl.equals("vgrad")) {
            throw new IllegalArgumentException("impl must be vgrad or openblas, got " + impl);
        }
        split = new SplitGemm(IN, HIDDEN, IN, threads);
        checkAgreement();
        if (impl.equals("vgrad")) {
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
        if (segments != null) {
            for (int i = 0; i < products.length; i++) blas(products[i], segments[i]);
        } else {
            for (Product p : products) split.run(p.form(), p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false, null);
        }
        return products[products.length - 1].c();
    }

    /**
     * The whole step, vgrad's GEMMs alone and OpenBLAS's GEMMs alone, one of each a call in a rotating order (each
     * first in turn). The vgrad rows run it; the openblas rows do nothing. On two threads, or without OpenBLAS, the
     * OpenBLAS part is left out (its threads and vgrad's spinning workers would slow each other) and reads 0.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public float[] paired(Triple t) {
        if (trainer == null) return null;
        int sides = threads == 1 && pairedSegments != null ? 3 : 2;
        t.turn = (t.turn + 1) % sides;
        for (int i = 0; i < sides; i++) {
            int which = (t.turn + i) % sides;
            long t0 = System.nanoTime();
            if (which == 0) trainer.step(x, labels);
            else if (which == 1) for (Product p : products) split.run(p.form(), p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false, null);
            else for (int j = 0; j < products.length; j++) blas(products[j], pairedSegments[j]);
            long dt = System.nanoTime() - t0;
            if (which == 0) t.stepNanos += dt;
            else if (which == 1) t.vgradNanos += dt;
            else t.blasNanos += dt;
        }
        t.samples += BATCH;
        return products[products.length - 1].c();
    }

    // refuse to measure wrong products: each of the chain's products by vgrad against OpenBLAS on the same operands
    // (or the scalar twin when OpenBLAS is missing), within 1e-5 k of the product's largest magnitude
    private void checkAgreement() {
        for (int i = 0; i < products.length; i++) {
            Product p = products[i];
            split.run(p.form(), p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false, null);
            float[] mine = p.c().clone();
            if (pairedSegments != null) {
                blas(p, pairedSegments[i]);
            } else {
                switch (p.form()) {
                    case Gemm.NN -> Gemm.nnScalar(p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false);
                    case Gemm.NT -> Gemm.ntScalar(p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false);
                    default -> Gemm.tnScalar(p.m(), p.n(), p.k(), p.a(), 0, p.b(), 0, p.c(), 0, false);
                }
            }
            float scale = 0;
            for (float v : p.c()) scale = Math.max(scale, Math.abs(v));
            for (int e = 0; e < mine.length; e++) {
                if (!(Math.abs(mine[e] - p.c()[e]) <= 1e-5f * p.k() * Math.max(1f, scale))) {
                    throw new IllegalStateException("product " + i + " (form " + p.form() + ", " + p.m() + " x " + p.n() + " x " + p.k()
                            + "): vgrad and the reference disagree at " + e + ": " + mine[e] + " vs " + p.c()[e]);
                }
            }
        }
    }

    private static void blas(Product p, MemorySegment[] s) {
        int ta = p.form() == Gemm.TN ? GemmBench.Blas.TRANS : GemmBench.Blas.NO_TRANS;
        int tb = p.form() == Gemm.NT ? GemmBench.Blas.TRANS : GemmBench.Blas.NO_TRANS;
        int lda = p.form() == Gemm.TN ? p.m() : p.k(), ldb = p.form() == Gemm.NT ? p.k() : p.n();
        try {
            GemmBench.Blas.SGEMM.get().invokeExact(GemmBench.Blas.ROW_MAJOR, ta, tb, p.m(), p.n(), p.k(), 1f, s[0], lda, s[1], ldb, 0f, s[2], p.n());
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    // the step's input: [0, 1) as in TrainStepBench
    private static float[] random01(SplittableRandom r, int len) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) v[i] = (float) r.nextDouble();
        return v;
    }

    private static float[] random(SplittableRandom r, int len) {
        float[] v = new float[len];
        for (int i = 0; i < len; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }
}
