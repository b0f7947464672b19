package dev.vgrad.train;

/**
 * Optimizer settings (PyTorch's semantics). The state (momentum, moments) lives in the {@link Trainer}.
 * Weight decay applies to every parameter, biases included, as in PyTorch's defaults.
 */
public sealed interface Optimizer {
    float learningRate();

    /** The same optimizer with another learning rate. */
    Optimizer withLearningRate(float lr);

    /** How many state floats per parameter it keeps. */
    int stateSlots();

    /** SGD with optional (Nesterov) momentum and L2 weight decay. */
    record Sgd(float learningRate, float momentum, boolean nesterov, float weightDecay) implements Optimizer {
        public Sgd {
            check(learningRate, "learning rate");
            if (!(momentum >= 0f && momentum < 1f)) throw new IllegalArgumentException("sgd: momentum must be in [0, 1), got " + momentum);
            if (nesterov && momentum == 0f) throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0");
            if (!(weightDecay >= 0f)) throw new IllegalArgumentException("sgd: weight decay must be >= 0, got " + weightDecay);
        }

        public Sgd(float learningRate) { this(learningRate, 0f, false, 0f); }

        @Override public Optimizer withLearningRate(float lr) { return new Sgd(lr, momentum, nesterov, weightDecay); }
        @Override public int stateSlots() { return momentum == 0f ? 0 : 1; }
    }

    /** Adam with bias correction; weight decay is L2 (added to the gradient), as torch.optim.Adam. */
    record Adam(float learningRate, float beta1, float beta2, float eps, float weightDecay) implements Optimizer {
        public Adam {
            check(learningRate, "learning rate");
            checkBetas(beta1, beta2, eps);
            if (!(weightDecay >= 0f)) throw new IllegalArgumentException("adam: weight decay must be >= 0, got " + weightDecay);
        }

        public Adam(float learningRate) { this(learningRate, 0.9f, 0.999f, 1e-8f, 0f); }

        @Override public Optimizer withLearningRate(float lr) { return new Adam(lr, beta1, beta2, eps, weightDecay); }
        @Override public int stateSlots() { return 2; }
    }

    /** AdamW: Adam with decoupled weight decay (p -= lr wd p), as torch.optim.AdamW (default wd 0.01). */
    record AdamW(float learningRate, float beta1, float beta2, float eps, float weightDecay) implements Optimizer {
        public AdamW {
            check(learningRate, "learning rate");
            checkBetas(beta1, beta2, eps);
            if (!(weightDecay >= 0f)) throw new IllegalArgumentException("adamw: weight decay must be >= 0, got " + weightDecay);
        }

        public AdamW(float learningRate) { this(learningRate, 0.9f, 0.999f, 1e-8f, 0.01f); }

        @Override public Optimizer withLearningRate(float lr) { return new AdamW(lr, beta1, beta2, eps, weightDecay); }
        @Override public int stateSlots() { return 2; }
    }

    private static void check(float lr, String what) {
        if (!(lr > 0f) || Float.isInfinite(lr)) throw new IllegalArgumentException(what + " must be positive and finite, got " + lr);
    }

    private static void checkBetas(float b1, float b2, float eps) {
        if (!(b1 >= 0f && b1 < 1f)) throw new IllegalArgumentException("beta1 must be in [0, 1), got " + b1);
        if (!(b2 >= 0f && b2 < 1f)) throw new IllegalArgumentException("beta2 must be in [0, 1), got " + b2);
        if (!(eps > 0f)) throw new IllegalArgumentException("eps must be positive, got " + eps);
    }
}
