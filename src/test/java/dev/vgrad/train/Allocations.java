package dev.vgrad.train;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Method;

/** Bytes allocated by the current thread (com.sun.management.ThreadMXBean, reached reflectively: the engine's module does not read jdk.management). */
final class Allocations {
    private Allocations() {}

    private static final Object MX = ManagementFactory.getThreadMXBean();
    private static final Method METHOD;

    static {
        try {
            METHOD = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static long now() {
        try {
            return (long) METHOD.invoke(MX);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("this JVM cannot count allocated bytes", e);
        }
    }

    /** Bytes allocated by {@code work}, less what reading the counter itself costs. */
    static long during(Runnable work) {
        long calibrate = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long a = now();
            long b = now();
            calibrate = Math.min(calibrate, b - a);
        }
        long before = now();
        work.run();
        long after = now();
        return after - before - calibrate;
    }

    /**
     * Bytes {@code work} allocates once warmed up: runs it until a run allocates nothing (C2 has compiled
     * the kernels with their vectors in registers; on a loaded machine, and after other tests in the same
     * JVM left other profiles, that takes a while), at most {@code rounds} times. Returns the last run's
     * count; {@code log} gets every run's.
     */
    static long afterWarmUp(int rounds, Runnable work, StringBuilder log) {
        long bytes = -1;
        for (int r = 0; r < rounds && bytes != 0; r++) {
            bytes = during(work);
            log.append(bytes).append(' ');
        }
        return bytes;
    }
}
