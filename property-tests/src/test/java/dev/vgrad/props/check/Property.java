package dev.vgrad.props.check;

import java.util.function.Consumer;

/**
 * A small property runner on plain JUnit: draws cases from a generator, runs the check on each,
 * and on a failure shrinks the case and reports it with the seed that replays the run.
 *
 * <ul>
 *   <li>Tries per property: system property {@code props.tries} (the Maven property of the same name,
 *       500 by default; {@code -Dprops.tries=5000} for a deeper run). A property may run a share of them.</li>
 *   <li>Seeds: random on every run, never fixed in CI; a failure prints its seed and
 *       {@code -Dprops.seed=<seed>} replays exactly that run.</li>
 *   <li>Shrinking: deletes and lowers the recorded choices the case was drawn from and keeps any
 *       simpler case that still fails (at most {@code props.shrinks} re-runs, 300 by default).</li>
 * </ul>
 */
public final class Property {
    private Property() {}

    public static final String TRIES = "props.tries";
    public static final String SEED = "props.seed";
    public static final String SHRINKS = "props.shrinks";

    /** The tries every property runs by default. */
    public static int defaultTries() { return Math.max(1, Integer.getInteger(TRIES, 500)); }

    /** Skips the current case (it is outside what the property speaks about); too many skips fail the property. */
    public static void assume(boolean condition) {
        if (!condition) throw new Discard();
    }

    /** Checks {@code check} on {@link #defaultTries()} cases drawn from gen. */
    public static <T> void forAll(Gen<T> gen, Consumer<? super T> check) { forAll(100, gen, check); }

    /** Checks {@code check} on percent% of the default tries (at least one), for expensive properties. */
    public static <T> void forAll(int percent, Gen<T> gen, Consumer<? super T> check) {
        int tries = Math.max(1, (int) ((long) defaultTries() * percent / 100));
        Long fixed = Long.getLong(SEED);
        long seed = fixed != null ? fixed : System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        java.util.SplittableRandom root = new java.util.SplittableRandom(seed);
        int discards = 0;
        for (int t = 0; t < tries; t++) {
            Source s = Source.fresh(root.nextLong());
            T value;
            try {
                value = gen.draw(s);
            } catch (Discard d) {
                if (++discards > 10 * tries) throw new AssertionError("too many discarded cases (" + discards + ") while generating");
                t--;
                continue;
            }
            Throwable failure = run(check, value);
            if (failure instanceof Discard) {
                if (++discards > 10 * tries) {
                    throw new AssertionError("property gave up: " + discards + " cases discarded by assume() for " + (t + 1) + " tries (seed " + seed + ")");
                }
                t--;
                continue;
            }
            if (failure != null) throw report(gen, check, s.recorded(), value, failure, t + 1, discards, seed);
        }
    }

    private static <T> Throwable run(Consumer<? super T> check, T value) {
        try {
            check.accept(value);
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    private static <T> AssertionError report(Gen<T> gen, Consumer<? super T> check, long[] choices, T original, Throwable failure,
                                             int tries, int discards, long seed) {
        Shrinker<T> sh = new Shrinker<>(gen, check, choices, original, failure);
        sh.shrink(Integer.getInteger(SHRINKS, 300));
        String msg = "property falsified on try " + tries + " (" + discards + " discarded); seed " + seed
                + " (replay with -D" + SEED + "=" + seed + ")\n"
                + "shrunk counterexample (" + sh.steps + " shrink steps, " + sh.runs + " re-runs):\n" + show(sh.value) + "\n"
                + "failure: " + sh.failure + "\n"
                + (sh.steps > 0 ? "original counterexample:\n" + show(original) + "\noriginal failure: " + failure + "\n" : "");
        AssertionError e = new AssertionError(msg, sh.failure);
        return e;
    }

    private static String show(Object v) {
        return v instanceof Object[] a ? java.util.Arrays.deepToString(a) : String.valueOf(v);
    }

    /** Lowers and deletes choices while the property still fails. */
    private static final class Shrinker<T> {
        final Gen<T> gen;
        final Consumer<? super T> check;
        long[] best;
        T value;
        Throwable failure;
        int steps, runs, budget;
        long deadline;

        Shrinker(Gen<T> gen, Consumer<? super T> check, long[] choices, T value, Throwable failure) {
            this.gen = gen;
            this.check = check;
            this.best = choices;
            this.value = value;
            this.failure = failure;
        }

        void shrink(int maxRuns) {
            budget = maxRuns;
            deadline = System.nanoTime() + 30_000_000_000L;
            boolean improved = true;
            while (improved && budget > 0 && System.nanoTime() < deadline) {
                improved = false;
                // delete chunks of choices
                for (int k = 8; k >= 1; k /= 2) {
                    for (int i = best.length - k; i >= 0 && budget > 0; i--) {
                        if (i + k > best.length) continue; // an earlier deletion shortened best
                        long[] c = new long[best.length - k];
                        System.arraycopy(best, 0, c, 0, i);
                        System.arraycopy(best, i + k, c, i, best.length - i - k);
                        improved |= attempt(c);
                    }
                }
                // lower each choice: to zero, halve, minus one
                for (int i = 0; i < best.length && budget > 0; i++) {
                    long v = best[i];
                    if (v == 0) continue;
                    for (long w : new long[] {0, v / 2, v - 1}) {
                        if (i >= best.length || w >= best[i]) continue;
                        long[] c = best.clone();
                        c[i] = w;
                        if (attempt(c)) { improved = true; break; }
                    }
                }
            }
        }

        /** Runs the property on the case the choices give; keeps it when it is simpler and still fails. */
        boolean attempt(long[] choices) {
            if (System.nanoTime() > deadline) { // slow cases (a hang caught by a timeout) stop shrinking mid-pass too
                budget = 0;
                return false;
            }
            budget--;
            runs++;
            Source s = Source.replaying(choices);
            T v;
            try {
                v = gen.draw(s);
            } catch (Discard d) {
                return false;
            }
            Throwable f = run(check, v);
            if (f == null || f instanceof Discard) return false;
            long[] rec = s.recorded();
            if (!simpler(rec, best)) return false;
            best = rec;
            value = v;
            failure = f;
            steps++;
            return true;
        }

        static boolean simpler(long[] a, long[] b) {
            if (a.length != b.length) return a.length < b.length;
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return a[i] < b[i];
            return false;
        }
    }
}
