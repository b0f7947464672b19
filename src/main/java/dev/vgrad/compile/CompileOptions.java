package dev.vgrad.compile;

/**
 * How to compile: a training plan (forward, loss, backward) or a forward-only one; kernel fusion and
 * buffer reuse can be switched off to compare (the results must agree).
 */
public record CompileOptions(boolean training, boolean fusion, boolean reuse) {
    public static CompileOptions defaults() { return new CompileOptions(true, true, true); }

    public static CompileOptions inference() { return new CompileOptions(false, true, true); }

    public CompileOptions withFusion(boolean f) { return new CompileOptions(training, f, reuse); }

    public CompileOptions withReuse(boolean r) { return new CompileOptions(training, fusion, r); }

    public CompileOptions withTraining(boolean t) { return new CompileOptions(t, fusion, reuse); }
}
