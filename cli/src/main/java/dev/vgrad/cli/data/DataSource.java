package dev.vgrad.cli.data;

import dev.vgrad.io.DataException;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.io.Idx;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a {@code --data} value into datasets: {@code digits} (embedded), {@code fashion-mnist} (Debian's
 * {@code dataset-fashion-mnist} package), a folder of MNIST-style IDX files, or a CSV file with a label column.
 * Features are divided by a scale (digits 16, IDX 255, CSV the largest absolute value of the file unless given)
 * so they lie in [-1, 1]; the scale is saved with the model so {@code eval} and {@code predict} apply the same.
 */
public final class DataSource {
    private DataSource() {}

    /** Where Debian's {@code dataset-fashion-mnist} installs Fashion-MNIST. */
    public static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    /** {@link #FASHION_MNIST}, or the folder in system property {@code vgrad.fashion-mnist} (tests use it to see the missing case). */
    public static Path fashionMnist() {
        String p = System.getProperty("vgrad.fashion-mnist");
        return p == null ? FASHION_MNIST : Path.of(p);
    }
    public static final String FASHION_INSTALL = "apt-get install -y dataset-fashion-mnist";

    /**
     * A dataset as loaded: {@code all} (digits, CSV: to be split) or {@code train} + {@code test} (IDX folders
     * that ship a test set), already scaled, and the scale applied to raw values.
     */
    public record Loaded(String spec, Dataset all, Dataset train, Dataset test, float scale) {
        public int features() { return (all != null ? all : train).features(); }
        public int classes() { return (all != null ? all : train).classes(); }
    }

    /**
     * Loads a {@code --data} value. For CSV, {@code labelColumn} as {@link CsvData#labelColumn}, {@code scale} 0 to
     * derive it, {@code classes} 0 to infer it from the labels.
     */
    public static Loaded load(String spec, int labelColumn, float scale, int classes) {
        switch (spec) {
            case "digits" -> {
                return new Loaded(spec, Digits.load(), null, null, 16f);
            }
            case "fashion-mnist" -> {
                return mnistFolder(spec, fashionMnist(), true);
            }
            default -> {
                Path p = Path.of(spec);
                if (Files.isDirectory(p)) return mnistFolder(spec, p, false);
                if (!Files.exists(p)) {
                    throw new DataException(p + ": no such file (--data takes digits, fashion-mnist, a CSV file or a folder of IDX files)");
                }
                CsvData.Table t = CsvData.read(p, labelColumn == CsvData.NO_LABEL ? -1 : labelColumn, -1, classes > 0 ? classes : -1);
                float s = scale > 0 ? scale : maxAbs(t.x());
                int k = classes > 0 ? classes : Math.max(2, max(t.y()) + 1);
                return new Loaded(spec, new Dataset(p.getFileName().toString(), scaled(t.x(), s), t.y(), t.rows(), t.features(), k), null, null, s);
            }
        }
    }

    /** A folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. */
    static Loaded mnistFolder(String spec, Path dir, boolean debianPackage) {
        Path trainX = find(dir, "train-images-idx3-ubyte", debianPackage), trainY = find(dir, "train-labels-idx1-ubyte", debianPackage);
        Path testX = find(dir, "t10k-images-idx3-ubyte", debianPackage), testY = find(dir, "t10k-labels-idx1-ubyte", debianPackage);
        Dataset train = Idx.dataset(spec, trainX, trainY, 10);
        Dataset test = Idx.dataset(spec + "/test", testX, testY, 10);
        if (train.features() != test.features()) {
            throw new DataException(testX + ": offset 8: images are " + test.features() + " pixels, the training images " + train.features());
        }
        return new Loaded(spec, null, train, test, 255f);
    }

    private static Path find(Path dir, String base, boolean debianPackage) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        String missing = dir.resolve(base + ".gz").toString();
        if (debianPackage) {
            throw new DataException(missing + ": no such file: Fashion-MNIST is not installed; install it with: " + FASHION_INSTALL
                    + " (after apt-get update)");
        }
        throw new DataException(missing + ": no such file (an IDX folder needs train- and t10k- images and labels)");
    }

    /** Features for prediction from a CSV (raw values divided by the model's scale) or an IDX images file (pixels / 255). */
    public record Inputs(Path file, int rows, int features, float[] x, int[] labels, long[] lines, boolean idx) {}

    /** Reads prediction inputs for a model of {@code features} inputs: CSV rows (an optional label column) or an IDX images file. */
    public static Inputs inputs(Path file, int features, float scale, int labelColumn) {
        if (!Files.exists(file)) throw new DataException(file + ": no such file");
        if (isIdx(file)) {
            Idx.Images im = Idx.images(file);
            if (im.features() != features) {
                throw new DataException(file + ": offset 8: images are " + im.rows() + "x" + im.cols() + " = " + im.features()
                        + " pixels, the model takes " + features + " features");
            }
            return new Inputs(file, im.count(), features, im.scaled(), null, null, true);
        }
        // with or without a label: the first data row's cell count decides
        CsvData.Table t = CsvData.read(file, labelColumn, features, -1, labelColumn != CsvData.NO_LABEL);
        return new Inputs(file, t.rows(), features, scaled(t.x(), scale), t.y(), t.lines(), false);
    }

    /** True for an IDX file: its name says so, or it starts with the IDX magic (possibly gzip'd). */
    static boolean isIdx(Path file) {
        String n = file.getFileName().toString();
        return n.contains("-idx") || n.endsWith(".idx") || n.endsWith(".idx.gz") || n.endsWith("-ubyte") || n.endsWith("-ubyte.gz");
    }

    static float[] scaled(float[] x, float s) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) r[i] = x[i] / s;
        return r;
    }

    private static float maxAbs(float[] x) {
        float m = 0f;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m == 0f ? 1f : m;
    }

    private static int max(int[] y) {
        int m = 0;
        for (int v : y) m = Math.max(m, v);
        return m;
    }
}
