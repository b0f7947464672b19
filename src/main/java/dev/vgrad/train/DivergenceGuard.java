package dev.vgrad.train;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * Watches the loss of every training step, right after the forward pass and before the update. The
 * loss has diverged when it is NaN or infinite, or when the mean of the last {@code window} losses is
 * more than {@code factor} times the reference level — the lower of the first loss and the lowest
 * window mean seen so far — and above the first loss (the model got worse than where it started).
 * A snapshot is "good" when its step's loss is at most sqrt(factor) times the reference, so a
 * backoff does not return to a state that was already climbing.
 *
 * <p>{@link Mode#STOP} (default) throws a {@link DivergenceException} before the diverged step updates
 * anything. {@link Mode#BACKOFF} restores the parameters and optimizer state of the last snapshot
 * (taken every {@code snapshotEvery} steps from a step whose loss passed the check, into buffers
 * allocated when the mode is chosen: no allocation per step), halves the learning rate, says so, and
 * runs the batch again; after {@code maxBackoffs} halvings it gives up with the exception.
 */
public final class DivergenceGuard {
    public enum Mode { OFF, STOP, BACKOFF }

    public static final int DEFAULT_WINDOW = 10;
    public static final double DEFAULT_FACTOR = 10;
    public static final int DEFAULT_SNAPSHOT_EVERY = 10;
    public static final int DEFAULT_MAX_BACKOFFS = 5;
    /** Losses kept for the message. */
    static final int HISTORY = 12;

    private final Trainer trainer;
    private Mode mode = Mode.STOP;
    private int window = DEFAULT_WINDOW;
    private double factor = DEFAULT_FACTOR;
    private int snapshotEvery = DEFAULT_SNAPSHOT_EVERY;
    private int maxBackoffs = DEFAULT_MAX_BACKOFFS;
    private Consumer<String> messages = m -> System.err.println("warning: " + m);

    // the last losses, a ring: detection reads the last `window`, messages the last HISTORY
    private double[] ring;
    private int count;
    private double best = Double.POSITIVE_INFINITY;
    private double firstLoss = Double.NaN;
    // BACKOFF: the last good state
    private float[] goodParams, goodState1, goodState2;
    private long goodUpdates = -1, goodStep = -1;
    private int backoffs;
    private String lastMessage;

    DivergenceGuard(Trainer trainer) {
        this.trainer = trainer;
        this.ring = new double[Math.max(DEFAULT_WINDOW, HISTORY)];
    }

    // ---- settings ----

    public Mode mode() { return mode; }

    /** Chooses what happens on divergence; BACKOFF allocates its snapshot buffers here. */
    public DivergenceGuard setMode(Mode m) {
        this.mode = java.util.Objects.requireNonNull(m, "mode");
        if (m == Mode.BACKOFF && goodParams == null) {
            int n = trainer.params().length;
            goodParams = new float[n];
            goodState1 = new float[n];
            goodState2 = new float[n];
        }
        return this;
    }

    public int window() { return window; }

    public double factor() { return factor; }

    /** Divergence when the mean of the last {@code window} losses exceeds {@code factor} x the lowest such mean. */
    public DivergenceGuard setRise(int window, double factor) {
        if (window < 1) throw new IllegalArgumentException("divergence window must be >= 1 step, got " + window);
        if (!(factor > 1)) throw new IllegalArgumentException("divergence factor must be > 1, got " + factor);
        this.window = window;
        this.factor = factor;
        this.ring = new double[Math.max(window, HISTORY)];
        reset();
        return this;
    }

    /** BACKOFF: snapshot every {@code steps} steps, halve at most {@code maxBackoffs} times. */
    public DivergenceGuard setBackoff(int snapshotEvery, int maxBackoffs) {
        if (snapshotEvery < 1) throw new IllegalArgumentException("snapshot interval must be >= 1 step, got " + snapshotEvery);
        if (maxBackoffs < 1) throw new IllegalArgumentException("max backoffs must be >= 1, got " + maxBackoffs);
        this.snapshotEvery = snapshotEvery;
        this.maxBackoffs = maxBackoffs;
        return this;
    }

    /** Where BACKOFF reports what it did (default: standard error). */
    public DivergenceGuard setMessages(Consumer<String> sink) {
        this.messages = java.util.Objects.requireNonNull(sink, "messages");
        return this;
    }

    /** How many times BACKOFF restored and halved so far. */
    public int backoffs() { return backoffs; }

    /** The last backoff message, or null. */
    public String lastMessage() { return lastMessage; }

    // ---- called by the Trainer, once per step after the forward pass ----

    /**
     * Records the loss of {@code step}. Returns false when training goes on; true when BACKOFF restored
     * an earlier state (the caller runs the batch again). Throws {@link DivergenceException} in STOP mode,
     * or in BACKOFF mode when no snapshot or no backoff is left.
     */
    boolean check(double loss, long step) {
        if (mode == Mode.OFF) return false;
        ring[count % ring.length] = loss;
        count++;
        String why = null;
        if (!Double.isFinite(loss)) {
            why = "the loss is " + loss;
        } else {
            if (Double.isNaN(firstLoss)) firstLoss = loss;
            if (count >= window) {
                double sum = 0;
                for (int i = 0; i < window; i++) sum += ring[(count - 1 - i) % ring.length];
                double mean = sum / window;
                double ref = Math.min(firstLoss, best);
                if (mean > factor * ref && mean > firstLoss) {
                    why = ref > 0
                            ? String.format(Locale.ROOT, "the mean loss of the last %d steps, %.4g, is %.3gx the lowest level seen, %.4g",
                                    window, mean, mean / ref, ref)
                            : String.format(Locale.ROOT, "the mean loss of the last %d steps rose from 0 to %.4g", window, mean);
                }
                best = Math.min(best, mean);
            }
        }
        if (why == null) {
            // a good state: its loss is not well above the lowest level seen
            boolean good = loss <= Math.sqrt(factor) * Math.min(firstLoss, best);
            if (mode == Mode.BACKOFF && step % snapshotEvery == 0 && good) snapshot(step);
            return false;
        }
        float lr = trainer.learningRate();
        if (mode == Mode.STOP) throw forget(exception(why, step, lr, ""));
        if (goodStep < 0) throw forget(exception(why, step, lr, " (no good state to restore: the divergence came before the first snapshot)"));
        if (backoffs >= maxBackoffs) {
            throw forget(exception(why, step, lr, String.format(Locale.ROOT, " (gave up after %d backoffs)", backoffs)));
        }
        restore();
        backoffs++;
        float halved = lr / 2;
        trainer.setLearningRate(halved);
        lastMessage = String.format(Locale.ROOT, "training diverged at step %d: %s; loss history %s. Restored the parameters and "
                + "optimizer state of step %d and halved the learning rate %s -> %s (backoff %d of %d)", step, why, history(),
                goodStep, fmt(lr), fmt(halved), backoffs, maxBackoffs);
        messages.accept(lastMessage);
        count = 0; // forget the diverged losses; the reference levels stay
        return true;
    }

    /**
     * The rejected step did not happen: its loss (already in the exception's history) leaves the window, so a
     * caller who catches the exception and goes on is not flagged again by it, nor has a NaN poison the reference.
     */
    private DivergenceException forget(DivergenceException e) {
        count--;
        return e;
    }

    private void snapshot(long step) {
        float[] p = trainer.params();
        float[][] st = trainer.optimizerState();
        System.arraycopy(p, 0, goodParams, 0, p.length);
        int slots = trainer.optimizer().stateSlots();
        if (slots >= 1) System.arraycopy(st[0], 0, goodState1, 0, p.length);
        if (slots >= 2) System.arraycopy(st[1], 0, goodState2, 0, p.length);
        goodUpdates = trainer.updates();
        goodStep = step;
    }

    private void restore() {
        float[] p = trainer.params();
        float[][] st = trainer.optimizerState();
        System.arraycopy(goodParams, 0, p, 0, p.length);
        int slots = trainer.optimizer().stateSlots();
        if (slots >= 1) System.arraycopy(goodState1, 0, st[0], 0, p.length);
        if (slots >= 2) System.arraycopy(goodState2, 0, st[1], 0, p.length);
        trainer.setUpdates(goodUpdates);
    }

    private void reset() {
        count = 0;
        best = Double.POSITIVE_INFINITY;
        firstLoss = Double.NaN;
    }

    private DivergenceException exception(String why, long step, float lr, String tail) {
        float suggest = lr / 10;
        String msg = String.format(Locale.ROOT, "training diverged at step %d: %s; loss history %s; learning rate %s%s. "
                + "Try a lower learning rate, e.g. %s, or back off automatically (on-divergence backoff)", step, why, history(),
                fmt(lr), tail, fmt(suggest));
        return new DivergenceException(msg, step, historyValues(), lr, suggest);
    }

    private double[] historyValues() {
        int n = Math.min(count, ring.length);
        double[] h = new double[n];
        for (int i = 0; i < n; i++) h[i] = ring[(count - n + i) % ring.length];
        return h;
    }

    private String history() {
        double[] h = historyValues();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < h.length; i++) sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", h[i]));
        return sb.append(']').toString();
    }

    private static String fmt(float lr) { return String.format(Locale.ROOT, "%.3g", lr); }
}
