package dev.vgrad.cli.serve;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.runtime.Predictor;
import java.nio.file.Path;

/**
 * Predictors from model files: the file is read and validated by {@link ModelFile#load} (any fault is a
 * {@code ModelFileException} naming the file and offset), then the weights are packed for serving. The same
 * two lines work anywhere the cli module is on the class path:
 * <pre>{@code
 * ModelFile m = ModelFile.load(path);
 * Predictor p = Predictor.of(m.graph(), m.tensors());
 * }</pre>
 */
public final class Predictors {
    private Predictors() {}

    /** A predictor for the model saved at {@code file}, default options. */
    public static Predictor load(Path file) { return load(file, Predictor.Options.defaults()); }

    /** A predictor for the model saved at {@code file}; batches run in chunks of the batch it was trained with. */
    public static Predictor load(Path file, Predictor.Options options) {
        ModelFile m = ModelFile.load(file);
        return Predictor.of(m.graph(), m.tensors(), options);
    }

    /** What raw inputs are divided by before the model sees them (saved by {@code vgrad train}; 1 when absent). */
    public static float inputScale(Path file) {
        return Float.parseFloat(ModelFile.load(file).meta("vgrad.input.scale", "1"));
    }
}
