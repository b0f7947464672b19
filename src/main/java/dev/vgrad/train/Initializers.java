package dev.vgrad.train;

import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Init;
import java.util.SplittableRandom;

/** Fills parameters from their {@link Init}; a seed gives the same values on every machine. */
public final class Initializers {
    private Initializers() {}

    /** Initialises every parameter of the plan in {@code params}; parameter i draws from its own stream. */
    public static void initialize(Plan plan, float[] params, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        for (Slot s : plan.params()) {
            SplittableRandom r = root.split();
            fill(s.node().init(), s.shape().rows(), s.shape().cols(), params, s.offset(), r);
        }
    }

    /** Fills a (fanIn, fanOut) weight. */
    public static void fill(Init init, int fanIn, int fanOut, float[] dst, int off, SplittableRandom r) {
        int n = fanIn * fanOut;
        switch (init) {
            case ZEROS -> java.util.Arrays.fill(dst, off, off + n, 0f);
            case HE_UNIFORM -> uniform(Math.sqrt(6.0 / fanIn), dst, off, n, r);
            case GLOROT_UNIFORM -> uniform(Math.sqrt(6.0 / (fanIn + fanOut)), dst, off, n, r);
            case HE_NORMAL -> normal(Math.sqrt(2.0 / fanIn), dst, off, n, r);
            case GLOROT_NORMAL -> normal(Math.sqrt(2.0 / (fanIn + fanOut)), dst, off, n, r);
        }
    }

    private static void uniform(double a, float[] dst, int off, int n, SplittableRandom r) {
        for (int i = 0; i < n; i++) dst[off + i] = (float) ((r.nextDouble() * 2 - 1) * a);
    }

    /** Box-Muller from the stream, so values do not depend on the JDK's Gaussian generator. */
    private static void normal(double std, float[] dst, int off, int n, SplittableRandom r) {
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            double rad = Math.sqrt(-2.0 * Math.log(u1));
            dst[off + i] = (float) (std * rad * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) dst[off + i + 1] = (float) (std * rad * Math.sin(2 * Math.PI * u2));
        }
    }
}
