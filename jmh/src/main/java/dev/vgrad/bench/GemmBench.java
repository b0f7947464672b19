package dev.vgrad.bench;

import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.GemmEpilogue;
import dev.vgrad.kernel.GemmBlocking;
import dev.vgrad.runtime.SplitGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * GFLOPS of one GEMM: vgrad's kernels beside OpenBLAS {@code cblas_sgemm} called in the same JVM through
 * the FFM API (Debian's {@code libopenblas0-pthread}; {@code impl=openblas} cases print a note and are
 * skipped when the library is missing). Shapes: squares {@code nn:n:n:n} and every GEMM of one training
 * step of the MLP 784-256-256-10 at batch 128 ({@code form:m:n:k}, C[m,n] (+)= op(A)·op(B)).
 *
 * <p>How to read it: the secondary result {@code GemmBench.gemm:flops} is FLOP per nanosecond, that is
 * GFLOPS (an {@link AuxCounters} counter of the FLOPs done, with the output unit ns). Run:
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar jmh/target/benchmarks.jar GemmBench}
 * ({@code gemm256} is the same vgrad kernel compiled for 256-bit vectors, for the species choice; its
 * {@code impl=openblas} rows do nothing and read 0). On two threads vgrad's products run through the runtime's
 * {@link SplitGemm}, the split every GEMM step of a training step takes (static parts, or chunks claimed by free
 * threads; a column split's epilogue apart), OpenBLAS's through its own pthreads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GemmBench {

    @Param({"nn:128:128:128", "nn:256:256:256", "nn:512:512:512", "nn:1024:1024:1024", "nn:2048:2048:2048",
            // MLP 784-256-256-10, batch 128: fc1 forward and dW; fc2 forward, dx, dW; out forward, dx, dW
            "nn:128:256:784", "tn:784:256:128", "nn:128:256:256", "nt:128:256:256", "tn:256:256:128",
            "nn:128:10:256", "nt:128:256:10", "tn:256:10:128",
            // the same output layer with 16 classes (one vector per row of C with 16 lanes): forward and dW
            "nn:128:16:256", "tn:256:16:128"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Param({"vgrad", "openblas"})
    public String impl;

    /**
     * {@link #paired}'s two timings, per iteration: each library's GFLOPS over the calls of that iteration and their
     * ratio (vgrad / OpenBLAS; above 1 when vgrad is faster). Both libraries ran in the same iterations, so a slow
     * spell of the host weighs on both.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Pair {
        long vgradNanos, blasNanos, flops;
        boolean blasFirst;

        @Setup(Level.Iteration)
        public void reset() {
            vgradNanos = blasNanos = flops = 0;
        }

        public double vgradGflops() { return vgradNanos == 0 ? 0 : (double) flops / vgradNanos; }

        public double blasGflops() { return blasNanos == 0 ? 0 : (double) flops / blasNanos; }

        public double ratio() { return vgradNanos == 0 ? 0 : (double) blasNanos / vgradNanos; }
    }

    /** FLOPs done: reported per ns, i.e. GFLOPS. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public long flops;
    }

    char form;
    int m, n, k;
    long flop;
    float[] a, b, c;
    SplitGemm split;
    GemmEpilogue relu;
    MemorySegment sa, sb, sc;
    boolean skip;

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        String[] f = shape.split(":");
        form = f[0].charAt(1) == 't' ? 't' : f[0].charAt(0) == 't' ? 'T' : 'n'; // 'n' nn, 't' nt, 'T' tn
        m = Integer.parseInt(f[1]);
        n = Integer.parseInt(f[2]);
        k = Integer.parseInt(f[3]);
        flop = 2L * m * n * k;
        SplittableRandom r = new SplittableRandom(42);
        a = random(r, m * k);
        b = random(r, k * n);
        c = new float[m * n];
        // the runtime's own split (static parts or chunks claimed by free threads, a column split's epilogue apart)
        split = new SplitGemm(m, n, k, threads);
        relu = new GemmEpilogue(random(r, n), 0, Activation.RELU, 0f, null, 0);
        if (Blas.SGEMM.isPresent()) {
            sa = MemorySegment.ofArray(a);
            sb = MemorySegment.ofArray(b);
            sc = MemorySegment.ofArray(c);
        }
        if (impl.equals("openblas")) {
            if (Blas.SGEMM.isEmpty()) {
                System.out.println("NOTE: OpenBLAS not found (apt-get install -y libopenblas0-pthread): openblas cases skipped");
                skip = true;
                return;
            }
        }
        Blas.setThreads(threads);
        System.out.println("\nvgrad GEMM: " + GemmBlocking.describe());
        checkAgreement();
    }

    // refuse to measure a wrong product: vgrad against OpenBLAS (or the scalar twin when it is missing)
    private void checkAgreement() {
        float[] mine = new float[m * n], ref = new float[m * n];
        float[] keep = c;
        c = mine;
        runVgrad();
        if (Blas.SGEMM.isPresent()) {
            MemorySegment out = MemorySegment.ofArray(ref);
            blas(MemorySegment.ofArray(a), MemorySegment.ofArray(b), out);
        } else if ((long) m * n * k <= 1L << 27) {
            scalar(gemmForm(), m, n, k, a, b, ref);
        } else {
            ref = mine;
        }
        c = keep;
        for (int i = 0; i < ref.length; i++) {
            if (!(Math.abs(ref[i] - mine[i]) <= 1e-5f * k + 1e-5f)) {
                throw new IllegalStateException(shape + ": vgrad and the reference disagree at " + i + ": " + mine[i] + " vs " + ref[i]);
            }
        }
    }

    @Benchmark
    public float[] gemm(Flops counter) {
        if (skip) return c;
        if (impl.equals("openblas")) blas(sa, sb, sc);
        else runVgrad();
        counter.flops += flop;
        return c;
    }

    /**
     * vgrad and OpenBLAS on one thread, one call each in turn on the same arrays, in the same JVM and the same
     * iterations (the result: {@link Pair}'s GFLOPS of each and their ratio). On this shared host one JVM can run
     * the same kernel 30 % slower than the next, a spell that {@link #gemm}'s separate forks meet one library at a time;
     * here both meet it. Rows with {@code impl=openblas} or two threads do nothing (two libraries' spinning
     * threads would slow each other), nor do any without OpenBLAS.
     */
    @Benchmark
    public float[] paired(Pair pair) {
        if (!impl.equals("vgrad") || threads != 1 || sa == null) return c;
        // in turn which goes first, so that neither always finds the other's lines in cache
        pair.blasFirst = !pair.blasFirst;
        if (pair.blasFirst) pair.blasNanos += timedBlas();
        long t0 = System.nanoTime();
        runVgrad();
        pair.vgradNanos += System.nanoTime() - t0;
        if (!pair.blasFirst) pair.blasNanos += timedBlas();
        pair.flops += flop;
        return c;
    }

    // one OpenBLAS call on the benchmark's arrays; returns the nanoseconds it took
    private long timedBlas() {
        long t0 = System.nanoTime();
        blas(sa, sb, sc);
        return System.nanoTime() - t0;
    }

    /** The same vgrad kernel compiled for 256-bit vectors (the species measurement). */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dvgrad.vector.bits=256"})
    public float[] gemm256(Flops counter) {
        if (impl.equals("openblas")) return c; // not a vgrad case: flops stays 0
        return gemm(counter);
    }

    /**
     * The dense forward y = relu(x W + b) with the bias and activation fused into the GEMM (nn shapes,
     * vgrad only; other rows do nothing and read 0): compare with {@code gemm} for the cost of fusion.
     */
    @Benchmark
    public float[] gemmBiasRelu(Flops counter) {
        if (impl.equals("openblas") || form != 'n') return c;
        split.run(Gemm.NN, m, n, k, a, 0, b, 0, c, 0, false, relu);
        counter.flops += flop;
        return c;
    }

    // as a training step runs it: small products on the calling thread, larger ones split by the runtime's SplitGemm
    private void runVgrad() {
        split.run(gemmForm(), m, n, k, a, 0, b, 0, c, 0, false, null);
    }

    private int gemmForm() {
        return switch (form) {
            case 'n' -> Gemm.NN;
            case 't' -> Gemm.NT;
            default -> Gemm.TN;
        };
    }

    private void blas(MemorySegment pa, MemorySegment pb, MemorySegment pc) {
        Blas.sgemm(gemmForm(), m, n, k, pa, pb, pc);
    }

    /** C = op(A)·op(B) by the scalar twin, in form {@link Gemm#NN}, NT or TN (A, B and C whole arrays). */
    static void scalar(int form, int m, int n, int k, float[] a, float[] b, float[] c) {
        switch (form) {
            case Gemm.NN -> Gemm.nnScalar(m, n, k, a, 0, b, 0, c, 0, false);
            case Gemm.NT -> Gemm.ntScalar(m, n, k, a, 0, b, 0, c, 0, false);
            default -> Gemm.tnScalar(m, n, k, a, 0, b, 0, c, 0, false);
        }
    }

    /** Uniform in [-1, 1). */
    static float[] random(SplittableRandom r, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** cblas_sgemm and openblas_set_num_threads from libopenblas.so.0, if installed. */
    static final class Blas {
        static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
        static final Optional<MethodHandle> SGEMM;
        static final Optional<MethodHandle> SET_THREADS;

        static {
            MethodHandle sgemm = null, setThreads = null;
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup lib = SymbolLookup.libraryLookup("libopenblas.so.0", Arena.global());
                ValueLayout I = ValueLayout.JAVA_INT, F = ValueLayout.JAVA_FLOAT, P = ValueLayout.ADDRESS;
                // critical: heap arrays passed without copying (no upcalls, short calls)
                sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                        FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, P, I, P, I, F, P, I), Linker.Option.critical(true));
                setThreads = linker.downcallHandle(lib.find("openblas_set_num_threads").orElseThrow(), FunctionDescriptor.ofVoid(I));
            } catch (RuntimeException | Error e) {
                sgemm = null;
            }
            SGEMM = Optional.ofNullable(sgemm);
            SET_THREADS = Optional.ofNullable(setThreads);
        }

        /** C = op(A)·op(B) by {@code cblas_sgemm}, row-major, in form {@link Gemm#NN}, NT or TN (A, B, C whole arrays). */
        static void sgemm(int form, int m, int n, int k, MemorySegment a, MemorySegment b, MemorySegment c) {
            int ta = form == Gemm.TN ? TRANS : NO_TRANS, tb = form == Gemm.NT ? TRANS : NO_TRANS;
            int lda = form == Gemm.TN ? m : k, ldb = form == Gemm.NT ? k : n;
            try {
                SGEMM.get().invokeExact(ROW_MAJOR, ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }

        static void setThreads(int t) {
            try {
                if (SET_THREADS.isPresent()) SET_THREADS.get().invokeExact(t);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
