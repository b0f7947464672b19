package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pointwise activations and their derivatives. The derivative of every activation but GELU is
 * computed from the output y (so the pre-activation need not be kept); GELU's from its input x.
 *
 * <p>Each activation has its own loop: a vector never crosses a method boundary that C2 might not
 * inline (that would box it and allocate).
 */
public final class Activations {
    private Activations() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;
    /** sqrt(2 / pi), GELU's tanh-form constant. */
    static final float GELU_C = 0.7978845608028654f;
    static final float GELU_K = 0.044715f;

    /** y[i] = act(x[i]) */
    public static void forward(Activation act, float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        switch (act) {
            case IDENTITY -> { if (x != y || xOff != yOff) System.arraycopy(x, xOff, y, yOff, n); }
            case RELU -> relu(x, xOff, y, yOff, n);
            case LEAKY_RELU -> leakyRelu(alpha, x, xOff, y, yOff, n);
            case SIGMOID -> sigmoid(x, xOff, y, yOff, n);
            case TANH -> tanh(x, xOff, y, yOff, n);
            case GELU -> gelu(x, xOff, y, yOff, n);
        }
    }

    /** y[i] = act(x[i]), scalar twin of {@link #forward}. */
    public static void forwardScalar(Activation act, float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = scalar(act, alpha, x[xOff + i]);
    }

    /** y[i] = max(x[i], 0) */
    static void relu(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector.fromArray(S, x, xOff + i).max(0f).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = Math.max(x[xOff + i], 0f);
    }

    /** y[i] = x[i] < 0 ? alpha x[i] : x[i] */
    static void leakyRelu(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            v.blend(v.mul(alpha), v.compare(VectorOperators.LT, 0f)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = scalar(Activation.LEAKY_RELU, alpha, x[xOff + i]);
    }

    /** y[i] = 1 / (1 + exp(-x[i])) */
    static void sigmoid(float[] x, int xOff, float[] y, int yOff, int n) {
        // exp(-x) into y (element by element, so y may be x), then 1 / (1 + y)
        Exp.exp(x, xOff, 0f, -1f, y, yOff, n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            one.div(FloatVector.fromArray(S, y, yOff + i).add(one)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = 1f / (y[yOff + i] + 1f);
    }

    /** y[i] = tanh(x[i]) */
    static void tanh(float[] x, int xOff, float[] y, int yOff, int n) {
        Exp.tanh(x, xOff, y, yOff, n);
    }

    /** Floats per chunk of GELU: its tanh argument and value are staged in a per-thread scratch this long. */
    private static final int CHUNK = 256;
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[CHUNK]);

    /** u[j] = c (x + k x^3) for the n <= CHUNK elements of x from xOff: GELU's tanh argument. */
    private static void geluInner(float[] x, int xOff, float[] u, int n) {
        int j = 0;
        for (int nv = S.loopBound(n); j < nv; j += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + j);
            v.mul(v).mul(GELU_K).add(1f).mul(v).mul(GELU_C).intoArray(u, j);
        }
        // tail
        for (; j < n; j++) {
            float v = x[xOff + j];
            u[j] = (v * v * GELU_K + 1f) * v * GELU_C;
        }
    }

    /** y[i] = 0.5 x (1 + tanh(c (x + k x^3))) */
    static void gelu(float[] x, int xOff, float[] y, int yOff, int n) {
        // a chunk at a time: tanh's argument, then its value, in the scratch; each y read from x of its own index
        // (y may be x)
        float[] t = SCRATCH.get();
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            int len = Math.min(CHUNK, n - c0), xs = xOff + c0, ys = yOff + c0;
            geluInner(x, xs, t, len);
            Exp.tanh(t, 0, t, 0, len);
            int j = 0;
            for (int nv = S.loopBound(len); j < nv; j += S.length()) {
                FloatVector.fromArray(S, t, j).add(1f).mul(FloatVector.fromArray(S, x, xs + j)).mul(0.5f).intoArray(y, ys + j);
            }
            // tail
            for (; j < len; j++) y[ys + j] = (t[j] + 1f) * x[xs + j] * 0.5f;
        }
    }

    /**
     * dx[i] (+)= dy[i] * act'(v[i]), where {@code v} holds y (output) or, for GELU, x (input). dx may be dy (in place).
     */
    public static void backward(Activation act, float alpha, float[] v, int vOff, float[] dy, int dyOff,
                                float[] dx, int dxOff, int n, boolean accumulate) {
        switch (act) {
            case IDENTITY -> Elementwise.accumulate(dy, dyOff, dx, dxOff, n, accumulate);
            case RELU -> stepBackward(0f, v, vOff, dy, dyOff, dx, dxOff, n, accumulate);
            case LEAKY_RELU -> stepBackward(alpha, v, vOff, dy, dyOff, dx, dxOff, n, accumulate);
            case SIGMOID -> sigmoidBackward(v, vOff, dy, dyOff, dx, dxOff, n, accumulate);
            case TANH -> tanhBackward(v, vOff, dy, dyOff, dx, dxOff, n, accumulate);
            case GELU -> geluBackward(v, vOff, dy, dyOff, dx, dxOff, n, accumulate);
        }
    }

    /** Scalar twin of {@link #backward}. */
    public static void backwardScalar(Activation act, float alpha, float[] v, int vOff, float[] dy, int dyOff,
                                      float[] dx, int dxOff, int n, boolean accumulate) {
        for (int i = 0; i < n; i++) {
            float d = dy[dyOff + i] * scalarDerivative(act, alpha, v[vOff + i]);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + d : d;
        }
    }

    /** dx[i] (+)= dy[i] * (y[i] > 0 ? 1 : alpha): ReLU (alpha 0) and leaky ReLU from the output. */
    static void stepBackward(float alpha, float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n, boolean accumulate) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + i);
            FloatVector d = g.blend(g.mul(alpha), FloatVector.fromArray(S, y, yOff + i).compare(VectorOperators.LE, 0f));
            if (accumulate) d = d.add(FloatVector.fromArray(S, dx, dxOff + i));
            d.intoArray(dx, dxOff + i);
        }
        // tail
        for (; i < n; i++) {
            float d = dy[dyOff + i] * (y[yOff + i] <= 0f ? alpha : 1f); // as the vector lanes: NaN takes 1
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + d : d;
        }
    }

    /** dx[i] (+)= dy[i] * y[i] (1 - y[i]) */
    static void sigmoidBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n, boolean accumulate) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, yOff + i);
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + i).mul(v.mul(v.neg().add(1f)));
            if (accumulate) d = d.add(FloatVector.fromArray(S, dx, dxOff + i));
            d.intoArray(dx, dxOff + i);
        }
        // tail
        for (; i < n; i++) {
            float d = dy[dyOff + i] * scalarDerivative(Activation.SIGMOID, 0f, y[yOff + i]);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + d : d;
        }
    }

    /** dx[i] (+)= dy[i] * (1 - y[i]^2) */
    static void tanhBackward(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff, int n, boolean accumulate) {
        int i = 0;
        for (int nv = S.loopBound(n); i < nv; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, y, yOff + i);
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + i).mul(v.mul(v).neg().add(1f));
            if (accumulate) d = d.add(FloatVector.fromArray(S, dx, dxOff + i));
            d.intoArray(dx, dxOff + i);
        }
        // tail
        for (; i < n; i++) {
            float d = dy[dyOff + i] * scalarDerivative(Activation.TANH, 0f, y[yOff + i]);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + d : d;
        }
    }

    /** dx[i] (+)= dy[i] * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2)), t = tanh(c (x + k x^3)) */
    static void geluBackward(float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int n, boolean accumulate) {
        // t a chunk at a time in the scratch (dx may be dy: each dx is written after its dy is read)
        float[] tc = SCRATCH.get();
        for (int c0 = 0; c0 < n; c0 += CHUNK) {
            int len = Math.min(CHUNK, n - c0), xs = xOff + c0, ds = dyOff + c0, os = dxOff + c0;
            geluInner(x, xs, tc, len);
            Exp.tanh(tc, 0, tc, 0, len);
            int j = 0;
            for (int nv = S.loopBound(len); j < nv; j += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, xs + j);
                FloatVector x2 = v.mul(v);
                FloatVector t = FloatVector.fromArray(S, tc, j);
                FloatVector dInner = x2.mul(3f * GELU_K).add(1f).mul(GELU_C);
                FloatVector der = t.add(1f).mul(0.5f).add(t.mul(t).neg().add(1f).mul(v).mul(dInner).mul(0.5f));
                FloatVector d = FloatVector.fromArray(S, dy, ds + j).mul(der);
                if (accumulate) d = d.add(FloatVector.fromArray(S, dx, os + j));
                d.intoArray(dx, os + j);
            }
            // tail
            for (; j < len; j++) {
                float v = x[xs + j], t = tc[j], dInner = (v * v * (3f * GELU_K) + 1f) * GELU_C;
                float d = dy[ds + j] * ((t + 1f) * 0.5f + (-(t * t) + 1f) * v * dInner * 0.5f);
                dx[os + j] = accumulate ? dx[os + j] + d : d;
            }
        }
    }

    /**
     * act(x) for one float; the scalar definitions every vector kernel is tested against, the same operations in
     * the same order (exp and tanh from {@link Exp}), so a tail element has the bits of a vector lane.
     */
    public static float scalar(Activation act, float alpha, float x) {
        switch (act) {
            case IDENTITY: return x;
            case RELU: return Math.max(x, 0f);
            case LEAKY_RELU: return x < 0f ? alpha * x : x;
            case SIGMOID: return 1f / (Exp.exp(-x) + 1f);
            case TANH: return Exp.tanh(x);
            case GELU: {
                float inner = (x * x * GELU_K + 1f) * x * GELU_C;
                return (Exp.tanh(inner) + 1f) * x * 0.5f;
            }
            default: throw new AssertionError(act);
        }
    }

    /** act'(.) for one float: v is y, or x for GELU. */
    public static float scalarDerivative(Activation act, float alpha, float v) {
        switch (act) {
            case IDENTITY: return 1f;
            case RELU: return v <= 0f ? 0f : 1f; // not v > 0: a NaN takes 1, as in stepBackward's vector lanes
            case LEAKY_RELU: return v <= 0f ? alpha : 1f;
            case SIGMOID: return v * (-v + 1f);
            case TANH: return -(v * v) + 1f;
            case GELU: {
                float x2 = v * v;
                float t = Exp.tanh((x2 * GELU_K + 1f) * v * GELU_C);
                float dInner = (x2 * (3f * GELU_K) + 1f) * GELU_C;
                return (t + 1f) * 0.5f + (-(t * t) + 1f) * v * dInner * 0.5f;
            }
            default: throw new AssertionError(act);
        }
    }
}
