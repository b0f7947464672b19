package dev.vgrad.graph;

/** Pointwise activations; each has a forward kernel and a derivative in {@code kernel.Activations}. */
public enum Activation {
    IDENTITY, RELU, LEAKY_RELU, SIGMOID, TANH, GELU;

    /** True when the derivative can be computed from the output y alone (no pre-activation kept). */
    public boolean derivativeFromOutput() { return this != GELU; }

    /** Lower-case name as used in the builder, the CLI and model files. */
    public String id() { return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'); }

    public static Activation parse(String id) {
        for (Activation a : values()) {
            if (a.id().equals(id) || a.name().equalsIgnoreCase(id)) return a;
        }
        throw new IllegalArgumentException("unknown activation '" + id + "' (one of relu, leaky-relu, sigmoid, tanh, gelu, identity)");
    }
}
