package dev.vgrad.train;

/**
 * Training diverged: the loss became NaN or infinite, or rose by more than a factor over a window of
 * steps. Names the step, the recent loss history and the learning rate, and suggests a lower one.
 */
public final class DivergenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long step;
    private final double[] history;
    private final float learningRate;
    private final float suggestedLearningRate;

    DivergenceException(String message, long step, double[] history, float learningRate, float suggestedLearningRate) {
        super(message);
        this.step = step;
        this.history = history.clone();
        this.learningRate = learningRate;
        this.suggestedLearningRate = suggestedLearningRate;
    }

    /** The step (0-based, counting every step the trainer ran) whose loss showed the divergence. */
    public long step() { return step; }

    /** The most recent losses, oldest first, the diverged one last. */
    public double[] history() { return history.clone(); }

    public float learningRate() { return learningRate; }

    /** A learning rate worth trying instead (a tenth of the one that diverged). */
    public float suggestedLearningRate() { return suggestedLearningRate; }
}
