package dev.vgrad.props;

import static dev.vgrad.props.check.Property.forAll;

import dev.vgrad.graph.Activation;
import dev.vgrad.kernel.Activations;
import dev.vgrad.kernel.Bias;
import dev.vgrad.kernel.Elementwise;
import dev.vgrad.kernel.Finite;
import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.Losses;
import dev.vgrad.kernel.Optimizers;
import dev.vgrad.kernel.Simd;
import dev.vgrad.kernel.Softmax;
import dev.vgrad.props.check.Gen;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every Vector API kernel against its scalar twin, at random sizes around the lane count and random
 * offsets into larger arrays (whose slack the kernel must leave untouched). Bounds, with u = 2^-24 the
 * float unit roundoff:
 * <ul>
 *   <li>bitwise: add, mul, accumulate, mul-accumulate, col-sum, SGD and Adam, and the activations and their
 *       derivatives (same operations in the same order; exp and tanh from the kernels' Exp in both);</li>
 *   <li>GEMM: |c - c'| <= 2 (k + 2) u (sum_p |a_ip b_pj| + |c0|), the classic bound for a length-k dot
 *       product in any order; also C t against A (B t) in double (the random-projection check);</li>
 *   <li>softmax, log-softmax, losses: (n + 4) u scaled by the magnitudes summed.</li>
 * </ul>
 */
class KernelTwinProperties {
    static final double U = 0x1p-24;
    static final float SENTINEL = 12345.5f;

    /** An array of n values at a random offset, with random slack after it filled with a sentinel. */
    record Placed(float[] a, int off, int n) {
        static Placed of(float[] values, SplittableRandom r) {
            int off = r.nextInt(20), slack = r.nextInt(6);
            float[] a = new float[off + values.length + slack];
            Arrays.fill(a, SENTINEL);
            System.arraycopy(values, 0, a, off, values.length);
            return new Placed(a, off, values.length);
        }

        Placed copy() { return new Placed(a.clone(), off, n); }

        float get(int i) { return a[off + i]; }

        void checkSlack(String what) {
            for (int i = 0; i < a.length; i++) {
                if ((i < off || i >= off + n) && a[i] != SENTINEL) throw new AssertionError(what + " wrote outside its range at index " + (i - off));
            }
        }
    }

    record Sizes(int m, int n, int k, Gens.Data data) {}

    // m up to 70: the narrow Aᵀ·B kernels' blocks of 2 and 4 vectors of rows (32 and 64 with 16 lanes) and their tails
    static final Gen<Sizes> SIZES = s -> new Sizes(Gens.size(70).draw(s), Gens.size(40).draw(s), Gens.size(40).draw(s), Gens.data().draw(s));
    // for GEMM, half the time C up to 140 wide: the small-M path's 4-vector blocks (64 columns with 16 lanes) and their
    // tails; a third of the time at most 16 rows, so each batch size's mix of 1- to 5-row blocks comes up
    static final Gen<Sizes> GEMM_SIZES = s -> new Sizes(s.between(0, 2) == 0 ? Gens.size(16).draw(s) : Gens.size(70).draw(s),
            s.bool() ? Gens.size(40).draw(s) : Gens.size(140).draw(s), Gens.size(40).draw(s), Gens.data().draw(s));

    static void close(String what, int i, double got, double want, double bound) {
        if (!(Math.abs(got - want) <= bound)) {
            throw new AssertionError(what + " [" + i + "]: vector " + got + " vs scalar " + want + ", |diff| " + Math.abs(got - want) + " > " + bound);
        }
    }

    static void bitwise(String what, Placed v, Placed s) {
        for (int i = 0; i < v.n(); i++) {
            if (Float.floatToIntBits(v.get(i)) != Float.floatToIntBits(s.get(i))) {
                throw new AssertionError(what + " [" + i + "]: vector " + v.get(i) + " vs scalar " + s.get(i) + " (must be bitwise equal)");
            }
        }
        v.checkSlack(what);
    }

    @Test
    @DisplayName("the input check finds the first non-finite value where its scalar twin does")
    void firstNonFiniteEqualsItsTwin() {
        forAll(s -> new Object[] {SIZES.draw(s), s.between(0, 3)}, c -> {
            Sizes z = (Sizes) c[0];
            int bad = (Integer) c[1];
            SplittableRandom r = z.data().random();
            int n = z.m() * z.n();
            // finite values of every magnitude (x·0 is 0 for each), then 0-2 NaNs or infinities at random places
            float[] xs = z.data().uniform(n, r.nextBoolean() ? 4 : Float.MAX_VALUE);
            float[] kinds = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
            for (int b = 0; b < bad && n > 0; b++) xs[r.nextInt(n)] = kinds[r.nextInt(kinds.length)];
            Placed x = Placed.of(xs, r);
            // non-finite values just outside the range must not count
            if (x.off() > 0) x.a()[x.off() - 1] = Float.NaN;
            if (x.off() + n < x.a().length) x.a()[x.off() + n] = Float.POSITIVE_INFINITY;
            int want = Finite.firstNonFiniteScalar(x.a(), x.off(), n), got = Finite.firstNonFinite(x.a(), x.off(), n);
            if (got != want) throw new AssertionError("firstNonFinite over " + n + " values: " + got + ", its scalar twin " + want);
        });
    }

    @Test
    @DisplayName("the activation kernels and their derivatives equal their scalar twins bitwise")
    void activationsEqualTheirTwins() {
        forAll(s -> new Object[] {Gens.activation().draw(s), Gens.alpha().draw(s), SIZES.draw(s), s.bool()}, c -> {
            Activation act = (Activation) c[0];
            float alpha = (Float) c[1];
            Sizes z = (Sizes) c[2];
            boolean acc = (Boolean) c[3];
            SplittableRandom r = z.data().random();
            int n = z.m() * z.n();
            float[] xs = z.data().uniform(n, 4);
            Placed x = Placed.of(xs, r), y = Placed.of(new float[n], r), y2 = y.copy();
            Activations.forward(act, alpha, x.a(), x.off(), y.a(), y.off(), n);
            Activations.forwardScalar(act, alpha, x.a(), x.off(), y2.a(), y2.off(), n);
            for (int i = 0; i < n; i++) {
                double want = y2.get(i);
                close(act.id(), i, y.get(i), want, 0);
            }
            y.checkSlack(act.id());
            // derivative: v is y (in the activation's range) or x for GELU
            float[] vs = act.derivativeFromOutput() ? Arrays.copyOfRange(y2.a(), y2.off(), y2.off() + n) : xs;
            Placed v = Placed.of(vs, r), dy = Placed.of(z.data().uniform(n, 1), r), dx = Placed.of(z.data().uniform(n, 1), r), dx2 = dx.copy();
            Activations.backward(act, alpha, v.a(), v.off(), dy.a(), dy.off(), dx.a(), dx.off(), n, acc);
            Activations.backwardScalar(act, alpha, v.a(), v.off(), dy.a(), dy.off(), dx2.a(), dx2.off(), n, acc);
            for (int i = 0; i < n; i++) {
                close(act.id() + "'", i, dx.get(i), dx2.get(i), 0);
            }
            dx.checkSlack(act.id() + "'");
        });
    }

    @Test
    @DisplayName("the fused bias + activation epilogue equals its scalar twin, and col-sum is bitwise equal")
    void biasKernelsEqualTheirTwins() {
        forAll(s -> new Object[] {Gens.activation().draw(s), Gens.alpha().draw(s), SIZES.draw(s), s.bool(), s.bool()}, c -> {
            Activation act = (Activation) c[0];
            float alpha = (Float) c[1];
            Sizes z = (Sizes) c[2];
            boolean keepZ = (Boolean) c[3], acc = (Boolean) c[4];
            SplittableRandom r = z.data().random();
            int m = z.m(), n = z.n();
            float[] ys = z.data().uniform(m * n, 3);
            Placed b = Placed.of(z.data().uniform(n, 1), r);
            Placed y = Placed.of(ys, r), y2 = y.copy();
            Placed zz = keepZ ? Placed.of(new float[m * n], r) : null, zz2 = keepZ ? zz.copy() : null;
            Bias.biasActivation(m, n, b.a(), b.off(), act, alpha, y.a(), y.off(), keepZ ? zz.a() : null, keepZ ? zz.off() : 0);
            Bias.biasActivationScalar(m, n, b.a(), b.off(), act, alpha, y2.a(), y2.off(), keepZ ? zz2.a() : null, keepZ ? zz2.off() : 0);
            for (int i = 0; i < m * n; i++) {
                double pre = ys[i] + b.get(i % n);
                close("bias+" + act.id(), i, y.get(i), y2.get(i), 4 * Math.ulp(Math.abs(y2.get(i))) + (act == Activation.GELU ? 8 * U * (1 + Math.abs(pre)) : 0));
            }
            y.checkSlack("bias+" + act.id());
            if (keepZ) bitwise("bias pre-activation", zz, zz2);
            Placed dy = Placed.of(z.data().uniform(m * n, 1), r), db = Placed.of(z.data().uniform(n, 1), r), db2 = db.copy();
            Bias.colSum(m, n, dy.a(), dy.off(), db.a(), db.off(), acc);
            Bias.colSumScalar(m, n, dy.a(), dy.off(), db2.a(), db2.off(), acc);
            bitwise("col-sum", db, db2);
        });
    }

    @Test
    @DisplayName("add, mul, accumulate and mul-accumulate are bitwise equal to their twins; sum of squares within (n + 16) u")
    void elementwiseEqualsTwins() {
        forAll(s -> new Object[] {Gens.size(100).draw(s), Gens.data().draw(s), s.bool()}, c -> {
            int n = (Integer) c[0];
            Gens.Data d = (Gens.Data) c[1];
            boolean acc = (Boolean) c[2];
            SplittableRandom r = d.random();
            Placed a = Placed.of(d.uniform(n, 2), r), b = Placed.of(d.uniform(n, 2), r);
            Placed y = Placed.of(d.uniform(n, 1), r), y2 = y.copy();
            Elementwise.add(a.a(), a.off(), b.a(), b.off(), y.a(), y.off(), n);
            Elementwise.addScalar(a.a(), a.off(), b.a(), b.off(), y2.a(), y2.off(), n);
            bitwise("add", y, y2);
            Elementwise.mul(a.a(), a.off(), b.a(), b.off(), y.a(), y.off(), n);
            Elementwise.mulScalar(a.a(), a.off(), b.a(), b.off(), y2.a(), y2.off(), n);
            bitwise("mul", y, y2);
            Elementwise.accumulate(a.a(), a.off(), y.a(), y.off(), n, acc);
            Elementwise.accumulateScalar(a.a(), a.off(), y2.a(), y2.off(), n, acc);
            bitwise("accumulate", y, y2);
            Elementwise.mulAccumulate(a.a(), a.off(), b.a(), b.off(), y.a(), y.off(), n, acc);
            Elementwise.mulAccumulateScalar(a.a(), a.off(), b.a(), b.off(), y2.a(), y2.off(), n, acc);
            bitwise("mul-accumulate", y, y2);
            double ss = Elementwise.sumSquares(a.a(), a.off(), n), ss2 = Elementwise.sumSquaresScalar(a.a(), a.off(), n);
            close("sum of squares", 0, ss, ss2, (n + 16) * U * ss2);
        });
    }

    @Test
    @DisplayName("the kernels' lane fold with Simd.R8..R1 adds the lanes in a fixed pairwise tree, bitwise, whether interpreted or compiled")
    void laneSumIsAFixedTree() {
        forAll(Gens.data(), d -> {
            float[] x = d.uniform(Simd.LANES, 1000);
            for (int i = 0; i < x.length; i++) x[i] *= (float) Math.pow(10, d.random().nextInt(-3, 4));
            float[] t = x.clone();
            for (int half = t.length / 2; half >= 1; half /= 2) for (int i = 0; i < half; i++) t[i] += t[i + half];
            // the fold as the kernels write it out (Losses, Softmax, Elementwise, Optimizers)
            var v = jdk.incubator.vector.FloatVector.fromArray(Simd.FLOATS, x, 0);
            if (Simd.LANES > 8) v = v.add(v.rearrange(Simd.R8));
            if (Simd.LANES > 4) v = v.add(v.rearrange(Simd.R4));
            if (Simd.LANES > 2) v = v.add(v.rearrange(Simd.R2));
            if (Simd.LANES > 1) v = v.add(v.rearrange(Simd.R1));
            float got = v.lane(0);
            if (Float.floatToIntBits(got) != Float.floatToIntBits(t[0])) throw new AssertionError("lane fold " + got + " vs tree " + t[0]);
        });
    }

    interface GemmForm {
        void run(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean acc);
    }

    @Test
    @DisplayName("GEMM in all three forms equals its scalar twin within the dot-product bound (bitwise but for the narrow dot products), and C t equals A (B t)")
    void gemmEqualsTwinAndProjection() {
        forAll(s -> new Object[] {s.between(0, 2), GEMM_SIZES.draw(s), s.bool()}, c -> {
            int form = (Integer) c[0];
            Sizes z = (Sizes) c[1];
            boolean acc = (Boolean) c[2];
            int m = z.m(), n = z.n(), k = z.k();
            SplittableRandom r = z.data().random();
            // logical A (m, k) and B (k, n); stored as nn: A, B; nt: A, Bᵀ (n, k); tn: Aᵀ (k, m), B
            float[] al = z.data().uniform(m * k, 1), bl = z.data().uniform(k * n, 1);
            float[] as = form == 2 ? transpose(al, m, k) : al, bs = form == 1 ? transpose(bl, k, n) : bl;
            Placed a = Placed.of(as, r), b = Placed.of(bs, r), cc = Placed.of(z.data().uniform(m * n, 1), r), c2 = cc.copy();
            float[] c0 = Arrays.copyOfRange(cc.a(), cc.off(), cc.off() + m * n);
            String name = new String[] {"gemm.nn", "gemm.nt", "gemm.tn"}[form];
            GemmForm vec = form == 0 ? Gemm::nn : form == 1 ? Gemm::nt : Gemm::tn;
            GemmForm sca = form == 0 ? Gemm::nnScalar : form == 1 ? Gemm::ntScalar : Gemm::tnScalar;
            vec.run(m, n, k, a.a(), a.off(), b.a(), b.off(), cc.a(), cc.off(), acc);
            sca.run(m, n, k, a.a(), a.off(), b.a(), b.off(), c2.a(), c2.off(), acc);
            double[] t = z.data().direction(n);
            for (int i = 0; i < m; i++) {
                double ct = 0, abt = 0, bound = 0;
                for (int j = 0; j < n; j++) {
                    double abs = acc ? Math.abs(c0[i * n + j]) : 0, exact = acc ? c0[i * n + j] : 0;
                    for (int p = 0; p < k; p++) {
                        abs += Math.abs((double) al[i * k + p] * bl[p * n + j]);
                        exact += (double) al[i * k + p] * bl[p * n + j];
                    }
                    double e = 2 * (k + 2) * U * abs;
                    close(name, i * n + j, cc.get(i * n + j), c2.get(i * n + j), 2 * e);
                    ct += t[j] * cc.get(i * n + j);
                    abt += t[j] * exact;
                    bound += Math.abs(t[j]) * e;
                }
                close(name + " C t vs A (B t), row", i, ct, abt, bound + 1e-12);
            }
            cc.checkSlack(name);
            // every path but the narrow dot products sums each element as one fma chain in order from C or 0, as the
            // twin does: bitwise equal there
            Gemm.Path path = Gemm.path(new int[] {Gemm.NN, Gemm.NT, Gemm.TN}[form], m, n, k, acc);
            if (path != Gemm.Path.DOTS) {
                for (int i = 0; i < m * n; i++) {
                    if (Float.floatToIntBits(cc.get(i)) != Float.floatToIntBits(c2.get(i))) {
                        throw new AssertionError(name + " (" + m + "x" + n + "x" + k + ", path " + path.label + ") differs from its twin at " + i
                                + ": " + cc.get(i) + " vs " + c2.get(i) + " (must be bitwise equal)");
                    }
                }
            }
        });
    }

    @Test
    @DisplayName("ten-class A·B (2 x 10 blocks on an interleaved Bᵀ) equals its scalar twin within the bound, and A·Bᵀ on a transposed copy bitwise, whole and in parts")
    void tenClassesEqualTwinAndNtBitwise() {
        // k a multiple of the lanes (the 2 x 10 path); m odd and even; C at an offset with its slack checked
        forAll(s -> new Object[] {Gens.size(70).draw(s), s.between(1, 8), Gens.data().draw(s), s.bool(), s.between(1, 3)}, c -> {
            int m = (Integer) c[0], n = 10, k = (Integer) c[1] * Gens.LANES, parts = (Integer) c[4];
            Gens.Data d = (Gens.Data) c[2];
            boolean acc = (Boolean) c[3];
            SplittableRandom r = d.random();
            float[] al = d.uniform(m * k, 1), bl = d.uniform(k * n, 1);
            Placed a = Placed.of(al, r), b = Placed.of(bl, r), bt = Placed.of(transpose(bl, k, n), r);
            Placed cn = Placed.of(d.uniform(m * n, 1), r), ct = cn.copy(), c2 = cn.copy();
            float[] c0 = Arrays.copyOfRange(cn.a(), cn.off(), cn.off() + m * n);
            String name = "gemm.nn ten classes (" + m + "x10x" + k + ", beta " + (acc ? 1 : 0) + ", " + parts + " parts)";
            for (int part = 0; part < parts; part++) {
                Gemm.run(Gemm.NN, m, n, k, a.a(), a.off(), b.a(), b.off(), cn.a(), cn.off(), acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), part, parts);
            }
            Gemm.run(Gemm.NT, m, n, k, a.a(), a.off(), bt.a(), bt.off(), ct.a(), ct.off(), acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), 0, 1);
            Gemm.nnScalar(m, n, k, a.a(), a.off(), b.a(), b.off(), c2.a(), c2.off(), acc);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double abs = acc ? Math.abs(c0[i * n + j]) : 0;
                    for (int p = 0; p < k; p++) abs += Math.abs((double) al[i * k + p] * bl[p * n + j]);
                    close(name, i * n + j, cn.get(i * n + j), c2.get(i * n + j), 4 * (k + 2) * U * abs);
                }
            }
            bitwise(name + " against gemm.nt on Bᵀ", cn, ct);
            ct.checkSlack(name + " (nt)");
        });
    }

    interface GemmPart {
        void run(int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, boolean acc,
                 dev.vgrad.kernel.GemmEpilogue ep, dev.vgrad.kernel.GemmWorkspace ws, int part, int parts);
    }

    @Test
    @DisplayName("GEMM split into 2, 3 or 4 parts (the thread split) gives bitwise the C of one part, in all three forms")
    void gemmPartsAreBitwiseTheWhole() {
        forAll(s -> new Object[] {s.between(0, 2), GEMM_SIZES.draw(s), s.bool(), s.between(2, 4)}, c -> {
            int form = (Integer) c[0];
            Sizes z = (Sizes) c[1];
            boolean acc = (Boolean) c[2];
            int parts = (Integer) c[3];
            int m = z.m(), n = z.n(), k = z.k();
            float[] a = z.data().uniform(m * k, 1), b = z.data().uniform(k * n, 1), c0 = z.data().uniform(m * n, 1);
            GemmPart g = form == 0 ? Gemm::nn : form == 1 ? Gemm::nt : Gemm::tn;
            float[] whole = c0.clone(), split = c0.clone();
            g.run(m, n, k, a, 0, b, 0, whole, 0, acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), 0, 1);
            // each part on its own workspace, as each worker thread has its own
            for (int part = parts - 1; part >= 0; part--) {
                g.run(m, n, k, a, 0, b, 0, split, 0, acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), part, parts);
            }
            for (int i = 0; i < whole.length; i++) {
                if (Float.floatToIntBits(whole[i]) != Float.floatToIntBits(split[i])) {
                    throw new AssertionError("gemm form " + form + " (" + m + "x" + n + "x" + k + ") in " + parts + " parts differs at " + i
                            + ": " + split[i] + " vs " + whole[i]);
                }
            }
        });
    }

    @Test
    @DisplayName("a GEMM split over 1-4 threads by the runtime (static parts, chunks claimed by free threads, an epilogue apart) is bitwise one thread's")
    void splitGemmIsBitwiseOneThread() {
        forAll(10, s -> new Object[] {s.between(0, 2), blockSize(300).draw(s), blockSize(300).draw(s), blockSize(400).draw(s), s.bool(),
                s.between(1, 4), s.between(0, 2), Gens.data().draw(s)}, c -> {
            int form = (Integer) c[0], m = (Integer) c[1], n = (Integer) c[2], k = (Integer) c[3], threads = (Integer) c[5];
            boolean acc = (Boolean) c[4];
            Gens.Data d = (Gens.Data) c[7];
            float[] a = d.uniform(m * k, 1), b = d.uniform(k * n, 1), c0 = d.uniform(m * n, 1), v = d.uniform(m * n, 1);
            // none, bias + leaky ReLU, or relu' of v (the dense forward's and the dx product's epilogues)
            dev.vgrad.kernel.GemmEpilogue ep = switch ((Integer) c[6]) {
                case 1 -> new dev.vgrad.kernel.GemmEpilogue(d.uniform(n, 1), 0, Activation.LEAKY_RELU, 0.1f, null, 0);
                case 2 -> dev.vgrad.kernel.GemmEpilogue.derivative(Activation.RELU, 0f, v, 0);
                default -> null;
            };
            float[] whole = c0.clone();
            Gemm.run(form, m, n, k, a, 0, b, 0, whole, 0, acc, ep, new dev.vgrad.kernel.GemmWorkspace(m, n, k), 0, 1);
            dev.vgrad.runtime.SplitGemm sg = new dev.vgrad.runtime.SplitGemm(m, n, k, threads);
            // three times: a worker parked before the first product may wake after the caller has run every part (the pool
            // runs parts a worker has not begun on the caller); the later products find it spinning and share the work
            for (int rep = 0; rep < 3; rep++) {
                float[] split = c0.clone();
                sg.run(form, m, n, k, a, 0, b, 0, split, 0, acc, ep);
                for (int i = 0; i < whole.length; i++) {
                    if (Float.floatToIntBits(whole[i]) != Float.floatToIntBits(split[i])) {
                        throw new AssertionError("gemm form " + form + " (" + m + "x" + n + "x" + k + ", beta " + (acc ? 1 : 0) + ", epilogue "
                                + c[6] + ") on " + threads + " threads (" + dev.vgrad.runtime.SplitGemm.describe(form, m, n, k, acc, ep, threads)
                                + "), run " + (rep + 1) + ", differs at " + i + ": " + split[i] + " vs " + whole[i]);
                    }
                }
            }
        });
    }

    /** A size in [1, max]: half the time next to a multiple of 8 and of the lane count (block edges), else uniform. */
    static Gen<Integer> blockSize(int max) {
        return s -> {
            if (s.bool()) {
                int v = 8 * s.between(1, Math.max(1, max / 8)) + s.between(-1, 1);
                if (v >= 1 && v <= max) return v;
            }
            return s.between(1, max);
        };
    }

    @Test
    @DisplayName("GEMM at large sizes (several 8-row, M and K blocks) equals its twin and the random projection, and its thread split is bitwise the whole")
    void gemmAtLargeSizesEqualsTwinAndSplitsBitwise() {
        // a quarter of the draws are large: an A larger than L2 packed (m >= 240, k >= 1024 at 1 MiB), two K blocks,
        // C at least as wide as tall (split by columns)
        forAll(25, s -> s.between(0, 3) == 0
                ? new Object[] {s.between(0, 2), s.between(240, 300), s.between(300, 340), s.between(1024, 1100), s.bool(), s.between(2, 3), Gens.data().draw(s)}
                : new Object[] {s.between(0, 2), blockSize(300).draw(s), blockSize(80).draw(s), blockSize(1100).draw(s), s.bool(), s.between(2, 3), Gens.data().draw(s)}, c -> {
            int form = (Integer) c[0], m = (Integer) c[1], n = (Integer) c[2], k = (Integer) c[3], parts = (Integer) c[5];
            boolean acc = (Boolean) c[4];
            Gens.Data d = (Gens.Data) c[6];
            // logical A (m, k) and B (k, n); stored as nn: A, B; nt: A, Bᵀ (n, k); tn: Aᵀ (k, m), B
            float[] al = d.uniform(m * k, 1), bl = d.uniform(k * n, 1), c0 = d.uniform(m * n, 1);
            float[] a = form == 2 ? transpose(al, m, k) : al, b = form == 1 ? transpose(bl, k, n) : bl;
            float[] whole = c0.clone(), split = c0.clone();
            Gemm.run(form, m, n, k, a, 0, b, 0, whole, 0, acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), 0, 1);
            String name = "gemm form " + form + " (" + m + "x" + n + "x" + k + ")";
            if ((long) m * n * k <= 2_000_000) {
                // element by element against the scalar twin (bounded so the property stays fast)
                float[] twin = c0.clone();
                GemmForm sca = form == 0 ? Gemm::nnScalar : form == 1 ? Gemm::ntScalar : Gemm::tnScalar;
                sca.run(m, n, k, a, 0, b, 0, twin, 0, acc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double abs = acc ? Math.abs(c0[i * n + j]) : 0;
                        for (int p = 0; p < k; p++) abs += Math.abs((double) al[i * k + p] * bl[p * n + j]);
                        close(name, i * n + j, whole[i * n + j], twin[i * n + j], 4 * (k + 2) * U * abs);
                    }
                }
            }
            // at every size, the random projection: C t equals (beta C0) t + A (B t), within the fma bound
            double[] t = d.direction(n), bt = new double[k], bta = new double[k];
            for (int p = 0; p < k; p++) {
                for (int j = 0; j < n; j++) {
                    bt[p] += bl[p * n + j] * t[j];
                    bta[p] += Math.abs(bl[p * n + j] * t[j]);
                }
            }
            for (int i = 0; i < m; i++) {
                double ct = 0, want = 0, scale = 0;
                for (int j = 0; j < n; j++) {
                    ct += t[j] * whole[i * n + j];
                    if (acc) {
                        want += t[j] * c0[i * n + j];
                        scale += Math.abs(t[j] * c0[i * n + j]);
                    }
                }
                for (int p = 0; p < k; p++) {
                    want += al[i * k + p] * bt[p];
                    scale += Math.abs(al[i * k + p]) * bta[p];
                }
                close(name + " C t vs A (B t), row", i, ct, want, 2 * (k + 2) * U * scale + 1e-12);
            }
            // the split, each part with its own workspace as each worker has
            for (int part = parts - 1; part >= 0; part--) {
                Gemm.run(form, m, n, k, a, 0, b, 0, split, 0, acc, null, new dev.vgrad.kernel.GemmWorkspace(m, n, k), part, parts);
            }
            for (int i = 0; i < whole.length; i++) {
                if (Float.floatToIntBits(whole[i]) != Float.floatToIntBits(split[i])) {
                    throw new AssertionError("gemm form " + form + " (" + m + "x" + n + "x" + k + ") in " + parts + " parts differs at " + i + ": " + split[i] + " vs " + whole[i]);
                }
            }
        });
    }

    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    @Test
    @DisplayName("softmax, log-softmax and softmax backward equal their scalar twins within (n + 4) u")
    void softmaxEqualsTwins() {
        forAll(s -> new Object[] {SIZES.draw(s), s.bool()}, c -> {
            Sizes z = (Sizes) c[0];
            boolean acc = (Boolean) c[1];
            int m = z.m(), n = z.n();
            SplittableRandom r = z.data().random();
            float[] xs = z.data().uniform(m * n, 5);
            Placed x = Placed.of(xs, r), y = Placed.of(new float[m * n], r), y2 = y.copy();
            double e = 4 * (n + 4) * U;
            Softmax.forward(m, n, x.a(), x.off(), y.a(), y.off());
            Softmax.forwardScalar(m, n, x.a(), x.off(), y2.a(), y2.off());
            for (int i = 0; i < m * n; i++) close("softmax", i, y.get(i), y2.get(i), e * Math.abs(y2.get(i)) + 1e-30);
            y.checkSlack("softmax");
            Placed ly = Placed.of(new float[m * n], r), ly2 = ly.copy();
            Softmax.logForward(m, n, x.a(), x.off(), ly.a(), ly.off());
            Softmax.logForwardScalar(m, n, x.a(), x.off(), ly2.a(), ly2.off());
            for (int i = 0; i < m * n; i++) close("log-softmax", i, ly.get(i), ly2.get(i), e * (10 + Math.abs(ly2.get(i))));
            ly.checkSlack("log-softmax");
            Placed dy = Placed.of(z.data().uniform(m * n, 1), r), dx = Placed.of(z.data().uniform(m * n, 1), r), dx2 = dx.copy();
            Softmax.backward(m, n, y2.a(), y2.off(), dy.a(), dy.off(), dx.a(), dx.off(), acc);
            Softmax.backwardScalar(m, n, y2.a(), y2.off(), dy.a(), dy.off(), dx2.a(), dx2.off(), acc);
            for (int i = 0; i < m * n; i++) close("softmax'", i, dx.get(i), dx2.get(i), e * (2 + Math.abs(dx2.get(i))));
            dx.checkSlack("softmax'");
        });
    }

    @Test
    @DisplayName("each loss kernel's value (alone or with its gradient) and gradient equal its scalar twin within (n + 4) u")
    void lossesEqualTwins() {
        forAll(s -> new Object[] {SIZES.draw(s), s.between(0, 2), s.bool()}, c -> {
            Sizes z = (Sizes) c[0];
            int kind = (Integer) c[1];
            boolean lossOnly = (Boolean) c[2];
            int m = z.m(), n = z.n(), len = m * n;
            SplittableRandom r = z.data().random();
            Placed p = Placed.of(z.data().uniform(len, 3), r);
            Placed t = kind == 0 ? Placed.of(z.data().uniform(len, 3), r) : kind == 1 ? Placed.of(z.data().between(len, 0, 1), r)
                    : Placed.of(labelsAsFloats(z.data().labels(m, n)), r);
            Placed d = Placed.of(new float[len], r), d2 = d.copy();
            float[] da = lossOnly ? null : d.a(), d2a = lossOnly ? null : d2.a();
            double l1, l2;
            String what = new String[] {"mse", "bce-with-logits", "softmax-cross-entropy"}[kind];
            switch (kind) {
                case 0 -> {
                    l1 = Losses.mse(len, p.a(), p.off(), t.a(), t.off(), da, d.off());
                    l2 = Losses.mseScalar(len, p.a(), p.off(), t.a(), t.off(), d2a, d2.off());
                }
                case 1 -> {
                    l1 = Losses.bceWithLogits(len, p.a(), p.off(), t.a(), t.off(), da, d.off());
                    l2 = Losses.bceWithLogitsScalar(len, p.a(), p.off(), t.a(), t.off(), d2a, d2.off());
                }
                default -> {
                    l1 = Losses.softmaxCrossEntropy(m, n, p.a(), p.off(), t.a(), t.off(), da, d.off());
                    l2 = Losses.softmaxCrossEntropyScalar(m, n, p.a(), p.off(), t.a(), t.off(), d2a, d2.off());
                }
            }
            double e = 4 * (n + 4) * U;
            close(what + " loss", 0, l1, l2, e * (Math.abs(l2) + 10));
            double scale = kind == 2 ? 1.0 / m : 1.0 / len;
            for (int i = 0; i < len && !lossOnly; i++) close(what + " gradient", i, d.get(i), d2.get(i), e * (Math.abs(d2.get(i)) + 8 * scale));
            d.checkSlack(what + " gradient");
        });
    }

    static float[] labelsAsFloats(int[] y) {
        float[] f = new float[y.length];
        for (int i = 0; i < y.length; i++) f[i] = y[i];
        return f;
    }

    @Test
    @DisplayName("the SGD and Adam update kernels are bitwise equal to their scalar twins")
    void optimizerKernelsEqualTwins() {
        forAll(s -> new Object[] {Gens.size(100).draw(s), Gens.data().draw(s), s.between(0, 4)}, c -> {
            int n = (Integer) c[0];
            Gens.Data d = (Gens.Data) c[1];
            int variant = (Integer) c[2];
            SplittableRandom r = d.random();
            Placed g = Placed.of(d.uniform(n, 1), r), p = Placed.of(d.uniform(n, 1), r), p2 = p.copy();
            Placed s1 = Placed.of(d.uniform(n, 0.5), r), s1b = s1.copy();
            Placed s2 = Placed.of(d.between(n, 0, 0.5), r), s2b = s2.copy();
            float lr = (float) (0.001 + 0.1 * r.nextDouble()), wd = r.nextBoolean() ? 0f : (float) (0.1 * r.nextDouble());
            if (variant <= 2) {
                float mu = variant == 0 ? 0f : 0.9f;
                boolean nesterov = variant == 2;
                Optimizers.sgd(n, g.a(), g.off(), lr, mu, nesterov, wd, s1.a(), s1.off(), p.a(), p.off());
                Optimizers.sgdScalar(n, g.a(), g.off(), lr, mu, nesterov, wd, s1b.a(), s1b.off(), p2.a(), p2.off());
            } else {
                boolean decoupled = variant == 4;
                int step = 1 + r.nextInt(50);
                float c1 = (float) (1 - Math.pow(0.9, step)), c2 = (float) (1 - Math.pow(0.999, step));
                Optimizers.adam(n, g.a(), g.off(), lr, 0.9f, 0.999f, 1e-8f, wd, decoupled, c1, c2, s1.a(), s1.off(), s2.a(), s2.off(), p.a(), p.off());
                Optimizers.adamScalar(n, g.a(), g.off(), lr, 0.9f, 0.999f, 1e-8f, wd, decoupled, c1, c2, s1b.a(), s1b.off(), s2b.a(), s2b.off(), p2.a(), p2.off());
                bitwise("adam second moment", s2, s2b);
            }
            bitwise("optimizer parameters (variant " + variant + ")", p, p2);
            bitwise("optimizer first state", s1, s1b);
        });
    }
}
