package dev.vgrad.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Everything that defines a training run, kept in the model file's and the checkpoint's metadata
 * (keys {@code vgrad.train.*}) so {@code eval} rebuilds the same split and {@code --resume} the same run.
 */
public record Settings(String data, String labelColumn, float scale, int classes, int[] layers, String activation, float alpha,
                       String loss, String init, String optimizer, float lr, float momentum, boolean nesterov, float weightDecay,
                       float beta1, float beta2, float eps, int batch, int epochs, long seed, int threads, double validation, double test) {

    public static final String PREFIX = "vgrad.train.";

    public Settings {
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        if (!(validation > 0 && validation < 0.5)) throw new IllegalArgumentException("--validation must be in (0, 0.5), got " + validation);
        if (!(test > 0 && test < 0.5)) throw new IllegalArgumentException("--test must be in (0, 0.5), got " + test);
        for (int u : layers) if (u < 1) throw new IllegalArgumentException("--layers sizes must be >= 1, got " + Arrays.toString(layers));
        if (!loss.equals("cross-entropy") && !loss.equals("mse") && !loss.equals("bce")) {
            throw new IllegalArgumentException("--loss must be cross-entropy, mse or bce, got '" + loss + "'");
        }
        try {
            dev.vgrad.graph.Init.parse(init);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--init must be he-uniform, he-normal, glorot-uniform or glorot-normal, got '" + init + "'");
        }
        dev.vgrad.graph.Activation.parse(activation);
        if (!optimizer.equals("sgd") && !optimizer.equals("adam") && !optimizer.equals("adamw")) {
            throw new IllegalArgumentException("--optimizer must be sgd, adam or adamw, got '" + optimizer + "'");
        }
    }

    /** The optimizer these settings describe (weight decay < 0 means the optimizer's default). */
    public dev.vgrad.train.Optimizer toOptimizer() {
        return switch (optimizer) {
            case "sgd" -> new dev.vgrad.train.Optimizer.Sgd(lr, momentum, nesterov, Math.max(0f, weightDecay));
            case "adam" -> new dev.vgrad.train.Optimizer.Adam(lr, beta1, beta2, eps, Math.max(0f, weightDecay));
            default -> new dev.vgrad.train.Optimizer.AdamW(lr, beta1, beta2, eps, weightDecay < 0 ? 0.01f : weightDecay);
        };
    }

    public Settings withEpochs(int e) {
        return new Settings(data, labelColumn, scale, classes, layers, activation, alpha, loss, init, optimizer, lr, momentum, nesterov,
                weightDecay, beta1, beta2, eps, batch, e, seed, threads, validation, test);
    }

    public Settings withScaleAndClasses(float s, int k) {
        return new Settings(data, labelColumn, s, k, layers, activation, alpha, loss, init, optimizer, lr, momentum, nesterov,
                weightDecay, beta1, beta2, eps, batch, epochs, seed, threads, validation, test);
    }

    /** "64-128-64-10"-style description of the network with its activation. */
    public String describeNetwork(int features, int classes) {
        StringBuilder sb = new StringBuilder().append(features);
        for (int u : layers) sb.append('-').append(u);
        return sb.append('-').append(classes).append(' ').append(activation).toString();
    }

    /** As metadata: exact decimal strings (Float/Double.toString round-trip). */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "data", data);
        m.put(PREFIX + "label-column", labelColumn);
        m.put(PREFIX + "scale", Float.toString(scale));
        m.put(PREFIX + "classes", Integer.toString(classes));
        m.put(PREFIX + "layers", Arrays.stream(layers).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        m.put(PREFIX + "activation", activation);
        m.put(PREFIX + "alpha", Float.toString(alpha));
        m.put(PREFIX + "loss", loss);
        m.put(PREFIX + "init", init);
        m.put(PREFIX + "optimizer", optimizer);
        m.put(PREFIX + "lr", Float.toString(lr));
        m.put(PREFIX + "momentum", Float.toString(momentum));
        m.put(PREFIX + "nesterov", Boolean.toString(nesterov));
        m.put(PREFIX + "weight-decay", Float.toString(weightDecay));
        m.put(PREFIX + "beta1", Float.toString(beta1));
        m.put(PREFIX + "beta2", Float.toString(beta2));
        m.put(PREFIX + "eps", Float.toString(eps));
        m.put(PREFIX + "batch", Integer.toString(batch));
        m.put(PREFIX + "epochs", Integer.toString(epochs));
        m.put(PREFIX + "seed", Long.toString(seed));
        m.put(PREFIX + "threads", Integer.toString(threads));
        m.put(PREFIX + "validation", Double.toString(validation));
        m.put(PREFIX + "test", Double.toString(test));
        return m;
    }

    /** The settings saved in a model file or checkpoint; a ModelFileException naming the file if they are missing or malformed. */
    public static Settings fromModel(java.nio.file.Path file, dev.vgrad.cli.model.ModelFile m) {
        try {
            return fromMetadata(m.metadata());
        } catch (IllegalArgumentException e) {
            throw new dev.vgrad.cli.model.ModelFileException(file, "header: __metadata__: " + e.getMessage());
        }
    }

    /** Reads what {@link #toMetadata} wrote; a missing or malformed key is an IllegalArgumentException naming it. */
    public static Settings fromMetadata(Map<String, String> m) {
        return new Settings(get(m, "data"), get(m, "label-column"), f(m, "scale"), i(m, "classes"),
                Arrays.stream(get(m, "layers").split(",")).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray(),
                get(m, "activation"), f(m, "alpha"), get(m, "loss"), get(m, "init"), get(m, "optimizer"), f(m, "lr"), f(m, "momentum"),
                Boolean.parseBoolean(get(m, "nesterov")), f(m, "weight-decay"), f(m, "beta1"), f(m, "beta2"), f(m, "eps"), i(m, "batch"),
                i(m, "epochs"), Long.parseLong(get(m, "seed")), i(m, "threads"), Double.parseDouble(get(m, "validation")),
                Double.parseDouble(get(m, "test")));
    }

    private static String get(Map<String, String> m, String key) {
        String v = m.get(PREFIX + key);
        if (v == null) throw new IllegalArgumentException("metadata has no '" + PREFIX + key + "'");
        return v;
    }

    private static float f(Map<String, String> m, String key) {
        try {
            return Float.parseFloat(get(m, key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata '" + PREFIX + key + "' is not a number");
        }
    }

    private static int i(Map<String, String> m, String key) {
        try {
            return Integer.parseInt(get(m, key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("metadata '" + PREFIX + key + "' is not an integer");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Settings s && toMetadata().equals(s.toMetadata());
    }

    @Override
    public int hashCode() { return toMetadata().hashCode(); }

    @Override
    public String toString() { return toMetadata().toString(); }
}
