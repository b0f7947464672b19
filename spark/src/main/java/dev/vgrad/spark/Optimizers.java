package dev.vgrad.spark;

import dev.vgrad.train.Optimizer;
import java.util.Locale;

/** Optimizer settings as one line of text ("adam 0.001 0.9 0.999 1.0E-8 0.0"), for checkpoints and the command line. */
final class Optimizers {
    private Optimizers() {}

    static String text(Optimizer o) {
        return switch (o) {
            case Optimizer.Sgd s -> "sgd " + s.learningRate() + " " + s.momentum() + " " + s.nesterov() + " " + s.weightDecay();
            case Optimizer.Adam a -> "adam " + a.learningRate() + " " + a.beta1() + " " + a.beta2() + " " + a.eps() + " " + a.weightDecay();
            case Optimizer.AdamW a -> "adamw " + a.learningRate() + " " + a.beta1() + " " + a.beta2() + " " + a.eps() + " " + a.weightDecay();
        };
    }

    /** Reads {@link #text}, or a short form with the learning rate only ("adam 0.001", "sgd 0.1"). */
    static Optimizer parse(String text) {
        String[] t = text.trim().split("\\s+");
        try {
            float lr = t.length > 1 ? Float.parseFloat(t[1]) : 1e-3f;
            return switch (t[0].toLowerCase(Locale.ROOT)) {
                case "sgd" -> t.length > 2 ? new Optimizer.Sgd(lr, Float.parseFloat(t[2]), Boolean.parseBoolean(t[3]), Float.parseFloat(t[4]))
                        : new Optimizer.Sgd(lr);
                case "adam" -> t.length > 2 ? new Optimizer.Adam(lr, Float.parseFloat(t[2]), Float.parseFloat(t[3]), Float.parseFloat(t[4]),
                        Float.parseFloat(t[5])) : new Optimizer.Adam(lr);
                case "adamw" -> t.length > 2 ? new Optimizer.AdamW(lr, Float.parseFloat(t[2]), Float.parseFloat(t[3]), Float.parseFloat(t[4]),
                        Float.parseFloat(t[5])) : new Optimizer.AdamW(lr);
                default -> throw new IllegalArgumentException("optimizer '" + text + "': unknown kind '" + t[0] + "' (sgd, adam, adamw)");
            };
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("optimizer '" + text + "': expected 'sgd LR [MOMENTUM NESTEROV DECAY]' or 'adam|adamw LR [B1 B2 EPS DECAY]'");
        }
    }
}
