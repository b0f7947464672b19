package dev.vgrad.kernel;

import dev.vgrad.graph.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pointwise activations and their derivatives. The derivative of every activation but GELU is
 * computed from the output y (so the pre-activation need not be kept); GELU's from its input x.
 */
public final class Activations {
    private Activations() {}

    private static final VectorSpecies<Float> S = Simd.FLOATS;
    /** sqrt(2 / pi), GELU's tanh-form constant. */
    static final float GELU_C = 0.7978845608028654f;
    static final float GELU_K = 0.044715f;

    /** y[i] = act(x[i]) */
    public static void forward(Activation act, float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            apply(act, alpha, FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        }
        // tail
        for (; i < n; i++) y[yOff + i] = scalar(act, alpha, x[xOff + i]);
    }

    /** y[i] = act(x[i]), scalar twin of {@link #forward}. */
    public static void forwardScalar(Activation act, float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = scalar(act, alpha, x[xOff + i]);
    }

    /**
     * dx[i] (+)= dy[i] * act'(.), where {@code v} holds y (output) or, for GELU, x (input). dx may be dy (in place).
     */
    public static void backward(Activation act, float alpha, float[] v, int vOff, float[] dy, int dyOff,
                                float[] dx, int dxOff, int n, boolean accumulate) {
        int nv = S.loopBound(n);
        int i = 0;
        for (; i < nv; i += S.length()) {
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + i).mul(derivative(act, alpha, FloatVector.fromArray(S, v, vOff + i)));
            if (accumulate) d = d.add(FloatVector.fromArray(S, dx, dxOff + i));
            d.intoArray(dx, dxOff + i);
        }
        // tail
        for (; i < n; i++) {
            float d = dy[dyOff + i] * scalarDerivative(act, alpha, v[vOff + i]);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + d : d;
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

    /** act(x) on one vector. */
    static FloatVector apply(Activation act, float alpha, FloatVector x) {
        switch (act) {
            case IDENTITY: return x;
            case RELU: return x.max(0f);
            case LEAKY_RELU: {
                VectorMask<Float> neg = x.compare(VectorOperators.LT, 0f);
                return x.blend(x.mul(alpha), neg);
            }
            case SIGMOID: return x.broadcast(1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            case TANH: return x.lanewise(VectorOperators.TANH);
            case GELU: {
                FloatVector inner = x.mul(x).mul(x).mul(GELU_K).add(x).mul(GELU_C);
                return inner.lanewise(VectorOperators.TANH).add(1f).mul(x).mul(0.5f);
            }
            default: throw new AssertionError(act);
        }
    }

    /** act'(.) on one vector: from y, or from x for GELU. */
    static FloatVector derivative(Activation act, float alpha, FloatVector v) {
        switch (act) {
            case IDENTITY: return FloatVector.broadcast(S, 1f);
            case RELU: return FloatVector.broadcast(S, 1f).blend(0f, v.compare(VectorOperators.LE, 0f));
            case LEAKY_RELU: return FloatVector.broadcast(S, 1f).blend(alpha, v.compare(VectorOperators.LE, 0f));
            case SIGMOID: return v.neg().add(1f).mul(v);
            case TANH: return v.mul(v).neg().add(1f);
            case GELU: {
                FloatVector x2 = v.mul(v);
                FloatVector t = x2.mul(GELU_K).add(1f).mul(v).mul(GELU_C).lanewise(VectorOperators.TANH);
                FloatVector dInner = x2.mul(3f * GELU_K).add(1f).mul(GELU_C);
                // 0.5 (1 + t) + 0.5 x (1 - t^2) dInner
                return t.add(1f).mul(0.5f).add(t.mul(t).neg().add(1f).mul(v).mul(dInner).mul(0.5f));
            }
            default: throw new AssertionError(act);
        }
    }

    /** act(x) for one float; the scalar definitions every vector kernel is tested against. */
    public static float scalar(Activation act, float alpha, float x) {
        switch (act) {
            case IDENTITY: return x;
            case RELU: return Math.max(x, 0f);
            case LEAKY_RELU: return x < 0f ? alpha * x : x;
            case SIGMOID: return (float) (1.0 / (1.0 + Math.exp(-x)));
            case TANH: return (float) Math.tanh(x);
            case GELU: return (float) (0.5 * x * (1.0 + Math.tanh(GELU_C * (x + GELU_K * (double) x * x * x))));
            default: throw new AssertionError(act);
        }
    }

    /** act'(.) for one float: v is y, or x for GELU. */
    public static float scalarDerivative(Activation act, float alpha, float v) {
        switch (act) {
            case IDENTITY: return 1f;
            case RELU: return v > 0f ? 1f : 0f;
            case LEAKY_RELU: return v > 0f ? 1f : alpha;
            case SIGMOID: return v * (1f - v);
            case TANH: return 1f - v * v;
            case GELU: {
                double x = v;
                double t = Math.tanh(GELU_C * (x + GELU_K * x * x * x));
                double dInner = GELU_C * (1.0 + 3.0 * GELU_K * x * x);
                return (float) (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dInner);
            }
            default: throw new AssertionError(act);
        }
    }
}
