package dev.vgrad.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Optimizer updates over flat parameter, gradient and state arrays (PyTorch's formulas). */
public final class Optimizers {
    private Optimizers() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;

    /**
     * SGD: g' = g + wd p; with momentum: u = mu u + g', g' = nesterov ? g' + mu u : u; p -= lr g'.
     * {@code u} may be null when momentum is 0.
     */
    public static void sgd(int n, float[] g, int gOff, float lr, float momentum, boolean nesterov, float weightDecay,
                           float[] u, int uOff, float[] p, int pOff) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, pOff + i);
            FloatVector gv = FloatVector.fromArray(S, g, gOff + i);
            if (weightDecay != 0f) gv = pv.fma(FloatVector.broadcast(S, weightDecay), gv);
            if (momentum != 0f) {
                FloatVector uv = FloatVector.fromArray(S, u, uOff + i).fma(FloatVector.broadcast(S, momentum), gv);
                uv.intoArray(u, uOff + i);
                gv = nesterov ? uv.fma(FloatVector.broadcast(S, momentum), gv) : uv;
            }
            gv.fma(FloatVector.broadcast(S, -lr), pv).intoArray(p, pOff + i);
        }
        // tail
        for (; i < n; i++) sgdOne(i, g, gOff, lr, momentum, nesterov, weightDecay, u, uOff, p, pOff);
    }

    /** Scalar twin of {@link #sgd}. */
    public static void sgdScalar(int n, float[] g, int gOff, float lr, float momentum, boolean nesterov, float weightDecay,
                                 float[] u, int uOff, float[] p, int pOff) {
        for (int i = 0; i < n; i++) sgdOne(i, g, gOff, lr, momentum, nesterov, weightDecay, u, uOff, p, pOff);
    }

    private static void sgdOne(int i, float[] g, int gOff, float lr, float momentum, boolean nesterov, float weightDecay,
                               float[] u, int uOff, float[] p, int pOff) {
        float pv = p[pOff + i];
        float gv = g[gOff + i];
        if (weightDecay != 0f) gv = Math.fma(pv, weightDecay, gv);
        if (momentum != 0f) {
            float uv = Math.fma(u[uOff + i], momentum, gv);
            u[uOff + i] = uv;
            gv = nesterov ? Math.fma(uv, momentum, gv) : uv;
        }
        p[pOff + i] = Math.fma(gv, -lr, pv);
    }

    /**
     * Adam / AdamW: with decoupled decay p -= lr wd p first, else g' = g + wd p;
     * m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2; p -= lr (m / c1) / (sqrt(v / c2) + eps),
     * c1 = 1 - b1^t and c2 = 1 - b2^t the bias corrections.
     */
    public static void adam(int n, float[] g, int gOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                            boolean decoupled, float c1, float c2, float[] m, int mOff, float[] v, int vOff, float[] p, int pOff) {
        int nv = S.loopBound(n);
        float stepScale = lr / c1;
        float invC2 = 1f / c2;
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, pOff + i);
            FloatVector gv = FloatVector.fromArray(S, g, gOff + i);
            if (weightDecay != 0f) {
                if (decoupled) pv = pv.mul(1f - lr * weightDecay);
                else gv = pv.fma(FloatVector.broadcast(S, weightDecay), gv);
            }
            FloatVector mv = FloatVector.fromArray(S, m, mOff + i).mul(beta1).add(gv.mul(1f - beta1));
            FloatVector vv = FloatVector.fromArray(S, v, vOff + i).mul(beta2).add(gv.mul(gv).mul(1f - beta2));
            mv.intoArray(m, mOff + i);
            vv.intoArray(v, vOff + i);
            FloatVector denom = vv.mul(invC2).lanewise(VectorOperators.SQRT).add(eps);
            pv.sub(mv.mul(stepScale).div(denom)).intoArray(p, pOff + i);
        }
        // tail
        for (; i < n; i++) adamOne(i, g, gOff, lr, beta1, beta2, eps, weightDecay, decoupled, c1, c2, m, mOff, v, vOff, p, pOff);
    }

    /** Scalar twin of {@link #adam}. */
    public static void adamScalar(int n, float[] g, int gOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                                  boolean decoupled, float c1, float c2, float[] m, int mOff, float[] v, int vOff, float[] p, int pOff) {
        for (int i = 0; i < n; i++) adamOne(i, g, gOff, lr, beta1, beta2, eps, weightDecay, decoupled, c1, c2, m, mOff, v, vOff, p, pOff);
    }

    private static void adamOne(int i, float[] g, int gOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                                boolean decoupled, float c1, float c2, float[] m, int mOff, float[] v, int vOff, float[] p, int pOff) {
        float pv = p[pOff + i];
        float gv = g[gOff + i];
        if (weightDecay != 0f) {
            if (decoupled) pv = pv * (1f - lr * weightDecay);
            else gv = Math.fma(pv, weightDecay, gv);
        }
        float mv = m[mOff + i] * beta1 + gv * (1f - beta1);
        float vv = v[vOff + i] * beta2 + gv * gv * (1f - beta2);
        m[mOff + i] = mv;
        v[vOff + i] = vv;
        p[pOff + i] = pv - mv * (lr / c1) / ((float) Math.sqrt(vv * (1f / c2)) + eps);
    }

    // ---- observed updates: the same updates, also summing what telemetry reports ----

    // The sums are kept per lane in float and reduced once with reduceLanes(ADD), an intrinsic (a Simd.sum call at
    // this cold site is not inlined and boxes its vector): telemetry values may differ in the last bits between
    // JIT tiers, the parameters never do.

    /**
     * {@link #sgd}, and in the same pass: stats[s] += sum g^2, stats[s+1] += sum p^2 (before the update),
     * stats[s+2] += sum (p' - p)^2 (the update). Parameters end bitwise equal to {@link #sgd}'s.
     */
    public static void sgdObserved(int n, float[] g, int gOff, float lr, float momentum, boolean nesterov, float weightDecay,
                                   float[] u, int uOff, float[] p, int pOff, double[] stats, int sOff) {
        int nv = S.loopBound(n);
        int i = 0;
        FloatVector ag = FloatVector.zero(S), ap = FloatVector.zero(S), ad = FloatVector.zero(S);
        for (; i < nv; i += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, pOff + i);
            FloatVector g0 = FloatVector.fromArray(S, g, gOff + i);
            FloatVector gv = g0;
            if (weightDecay != 0f) gv = pv.fma(FloatVector.broadcast(S, weightDecay), gv);
            if (momentum != 0f) {
                FloatVector uv = FloatVector.fromArray(S, u, uOff + i).fma(FloatVector.broadcast(S, momentum), gv);
                uv.intoArray(u, uOff + i);
                gv = nesterov ? uv.fma(FloatVector.broadcast(S, momentum), gv) : uv;
            }
            FloatVector pn = gv.fma(FloatVector.broadcast(S, -lr), pv);
            pn.intoArray(p, pOff + i);
            FloatVector d = pn.sub(pv);
            ag = g0.fma(g0, ag);
            ap = pv.fma(pv, ap);
            ad = d.fma(d, ad);
        }
        double sg = ag.reduceLanes(VectorOperators.ADD), sp = ap.reduceLanes(VectorOperators.ADD), sd = ad.reduceLanes(VectorOperators.ADD);
        // tail
        for (; i < n; i++) {
            float g0 = g[gOff + i], p0 = p[pOff + i];
            sgdOne(i, g, gOff, lr, momentum, nesterov, weightDecay, u, uOff, p, pOff);
            float d = p[pOff + i] - p0;
            sg += g0 * g0;
            sp += p0 * p0;
            sd += d * d;
        }
        stats[sOff] += sg;
        stats[sOff + 1] += sp;
        stats[sOff + 2] += sd;
    }

    /** Scalar twin of {@link #sgdObserved}. */
    public static void sgdObservedScalar(int n, float[] g, int gOff, float lr, float momentum, boolean nesterov, float weightDecay,
                                         float[] u, int uOff, float[] p, int pOff, double[] stats, int sOff) {
        for (int i = 0; i < n; i++) {
            float g0 = g[gOff + i], p0 = p[pOff + i];
            sgdOne(i, g, gOff, lr, momentum, nesterov, weightDecay, u, uOff, p, pOff);
            double d = p[pOff + i] - p0;
            stats[sOff] += (double) g0 * g0;
            stats[sOff + 1] += (double) p0 * p0;
            stats[sOff + 2] += d * d;
        }
    }

    /** {@link #adam}, and in the same pass the sums of {@link #sgdObserved}. Parameters end bitwise equal to {@link #adam}'s. */
    public static void adamObserved(int n, float[] g, int gOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                                    boolean decoupled, float c1, float c2, float[] m, int mOff, float[] v, int vOff, float[] p, int pOff,
                                    double[] stats, int sOff) {
        int nv = S.loopBound(n);
        float stepScale = lr / c1;
        float invC2 = 1f / c2;
        int i = 0;
        FloatVector ag = FloatVector.zero(S), ap = FloatVector.zero(S), ad = FloatVector.zero(S);
        for (; i < nv; i += S.length()) {
            FloatVector p0 = FloatVector.fromArray(S, p, pOff + i);
            FloatVector g0 = FloatVector.fromArray(S, g, gOff + i);
            FloatVector pv = p0, gv = g0;
            if (weightDecay != 0f) {
                if (decoupled) pv = pv.mul(1f - lr * weightDecay);
                else gv = pv.fma(FloatVector.broadcast(S, weightDecay), gv);
            }
            FloatVector mv = FloatVector.fromArray(S, m, mOff + i).mul(beta1).add(gv.mul(1f - beta1));
            FloatVector vv = FloatVector.fromArray(S, v, vOff + i).mul(beta2).add(gv.mul(gv).mul(1f - beta2));
            mv.intoArray(m, mOff + i);
            vv.intoArray(v, vOff + i);
            FloatVector denom = vv.mul(invC2).lanewise(VectorOperators.SQRT).add(eps);
            FloatVector pn = pv.sub(mv.mul(stepScale).div(denom));
            pn.intoArray(p, pOff + i);
            FloatVector d = pn.sub(p0);
            ag = g0.fma(g0, ag);
            ap = p0.fma(p0, ap);
            ad = d.fma(d, ad);
        }
        double sg = ag.reduceLanes(VectorOperators.ADD), sp = ap.reduceLanes(VectorOperators.ADD), sd = ad.reduceLanes(VectorOperators.ADD);
        // tail
        for (; i < n; i++) {
            float g0 = g[gOff + i], p0 = p[pOff + i];
            adamOne(i, g, gOff, lr, beta1, beta2, eps, weightDecay, decoupled, c1, c2, m, mOff, v, vOff, p, pOff);
            float d = p[pOff + i] - p0;
            sg += g0 * g0;
            sp += p0 * p0;
            sd += d * d;
        }
        stats[sOff] += sg;
        stats[sOff + 1] += sp;
        stats[sOff + 2] += sd;
    }

    /** Scalar twin of {@link #adamObserved}. */
    public static void adamObservedScalar(int n, float[] g, int gOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                                          boolean decoupled, float c1, float c2, float[] m, int mOff, float[] v, int vOff, float[] p, int pOff,
                                          double[] stats, int sOff) {
        for (int i = 0; i < n; i++) {
            float g0 = g[gOff + i], p0 = p[pOff + i];
            adamOne(i, g, gOff, lr, beta1, beta2, eps, weightDecay, decoupled, c1, c2, m, mOff, v, vOff, p, pOff);
            double d = p[pOff + i] - p0;
            stats[sOff] += (double) g0 * g0;
            stats[sOff + 1] += (double) p0 * p0;
            stats[sOff + 2] += d * d;
        }
    }
}
