package dev.vgrad.props.check;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Where generators draw from: a sequence of choices, each a long in [0, bound). A fresh source draws
 * them at random and records them; a replaying source reads a recorded (and possibly edited) sequence,
 * returning 0 once it runs out. Generators map smaller choices to simpler values (fewer layers,
 * narrower shapes), so editing the sequence towards zeros and deleting parts of it shrinks a
 * counterexample (the choice-sequence shrinking of Hypothesis).
 */
public final class Source {
    private final SplittableRandom random;
    private final long[] replay;
    private long[] drawn = new long[16];
    private int count;

    private Source(SplittableRandom random, long[] replay) {
        this.random = random;
        this.replay = replay;
    }

    static Source fresh(long seed) { return new Source(new SplittableRandom(seed), null); }

    static Source replaying(long[] choices) { return new Source(null, choices); }

    /** A choice in [0, bound): random when fresh, recorded (clamped to the bound) when replaying. */
    public long choice(long bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        long v;
        if (replay == null) v = random.nextLong(bound);
        else v = count < replay.length ? Math.min(Math.max(replay[count], 0), bound - 1) : 0;
        if (count == drawn.length) drawn = Arrays.copyOf(drawn, 2 * count);
        drawn[count++] = v;
        return v;
    }

    /** An int in [lo, hi]; shrinks towards lo. */
    public int between(int lo, int hi) {
        if (hi < lo) throw new IllegalArgumentException("empty range [" + lo + ", " + hi + "]");
        return lo + (int) choice((long) hi - lo + 1);
    }

    /** A uniform double in [lo, hi); shrinks towards lo. */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * (choice(1L << 53) * 0x1.0p-53);
    }

    public boolean bool() { return choice(2) == 1; }

    /** One of the values; shrinks towards the first. */
    @SafeVarargs
    public final <T> T oneOf(T... values) { return values[(int) choice(values.length)]; }

    /** A seed for drawing bulk data (arrays) of an already drawn shape; not shrunk meaningfully. */
    public long seed() { return choice(Long.MAX_VALUE); }

    long[] recorded() { return Arrays.copyOf(drawn, count); }
}
