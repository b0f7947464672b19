package dev.vgrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.data.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each bad input: exit code 2, one line on stderr naming the file and the line or offset, no stack trace, no output files. */
class BadInputTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void trainSmallModel() {
        Cli t = Cli.run("train", "--epochs", "1", "--layers", "16", "--out", dir.resolve("m").toString(), "--no-progress");
        assertEquals(0, t.code(), t::toString);
        model = dir.resolve("m/model.safetensors");
    }

    /** Runs args, expects exit 2 with one stderr line containing every fragment, and no output folder. */
    static Cli bad(String[] args, String... fragments) {
        Cli c = Cli.run(args);
        assertEquals(2, c.code(), c::toString);
        String err = c.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        for (String f : fragments) assertTrue(err.contains(f), "'" + f + "' in: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
        return c;
    }

    static String[] train(Path data, String out) {
        return new String[] {"train", "--data", data.toString(), "--epochs", "1", "--no-progress", "--out", dir.resolve(out).toString()};
    }

    static void noOutput(String out) { assertFalse(Files.exists(dir.resolve(out)), "no output folder " + out); }

    @Test
    void missingFile() {
        bad(train(dir.resolve("nope.csv"), "o1"), "nope.csv", "no such file");
        noOutput("o1");
        bad(new String[] {"eval", dir.resolve("nope.safetensors").toString()}, "nope.safetensors", "no such file");
        bad(new String[] {"predict", model.toString(), dir.resolve("nope-images-idx3-ubyte").toString()}, "no such file");
    }

    @Test
    void unreadableModelFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("a-folder.safetensors"));
        bad(new String[] {"eval", folder.toString()}, "a-folder.safetensors", "cannot read");
    }

    @Test
    void wrongCsvColumnCount() throws Exception {
        Path f = dir.resolve("short.csv");
        Files.writeString(f, "1,2,3,0\n4,5,6,1\n7,8,1\n");
        bad(train(f, "o2"), "short.csv", "line 3", "3 cells, expected 4");
        noOutput("o2");
        Path rows = Fixtures.digitsCsv(dir.resolve("digits5.csv"), 5);
        String wide = Files.readString(rows).replaceFirst("\n", ",0,0\n");
        Path w = dir.resolve("wide.csv");
        Files.writeString(w, wide);
        bad(new String[] {"predict", model.toString(), w.toString()}, "wide.csv", "line 1", "67 cells");
    }

    @Test
    void nonNumericCell() throws Exception {
        Path f = dir.resolve("text.csv");
        Files.writeString(f, "1,2,3,0\n4,five,6,1\n7,8,9,1\n");
        bad(train(f, "o3"), "text.csv", "line 2, column 2", "'five' is not a number");
        noOutput("o3");
    }

    @Test
    void labelOutOfRange() throws Exception {
        Path rows = Fixtures.digitsCsv(dir.resolve("digits6.csv"), 6);
        String[] lines = Files.readString(rows).split("\n");
        lines[4] = lines[4].substring(0, lines[4].lastIndexOf(',')) + ",12";
        Path f = dir.resolve("label12.csv");
        Files.writeString(f, String.join("\n", lines) + "\n");
        bad(new String[] {"eval", model.toString(), "--data", f.toString()}, "label12.csv", "line 5", "label 12 is outside [0, 10)");
        Path g = dir.resolve("neg.csv");
        Files.writeString(g, "1,2,0\n3,4,-1\n5,6,1\n");
        bad(train(g, "o4"), "neg.csv", "line 2", "label '-1'");
        noOutput("o4");
    }

    @Test
    void imageSizeNotMatchingTheModel() throws Exception {
        Path idx = Fixtures.idxImages(dir.resolve("big-images-idx3-ubyte"), 2, 28, 28, false);
        bad(new String[] {"predict", model.toString(), idx.toString()}, "big-images-idx3-ubyte", "offset 8", "28x28 = 784 pixels, the model takes 64");
    }

    @Test
    void truncatedOrCorruptIdx() throws Exception {
        Path idx = Fixtures.idxImages(dir.resolve("cut-images-idx3-ubyte"), 3, 8, 8, false);
        byte[] b = Files.readAllBytes(idx);
        Files.write(idx, Arrays.copyOf(b, b.length - 10));
        bad(new String[] {"predict", model.toString(), idx.toString()}, "cut-images-idx3-ubyte", "offset 198", "file ends early");
        Path magic = dir.resolve("magic-images-idx3-ubyte");
        b[2] = 0x0d;
        Files.write(magic, b);
        bad(new String[] {"predict", model.toString(), magic.toString()}, "offset 2", "IDX type 0xd is not supported");
    }

    @Test
    void truncatedOrCorruptModelFile() throws Exception {
        byte[] b = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(b, b.length / 2));
        bad(new String[] {"eval", cut.toString()}, "cut.safetensors", "data section");
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, Arrays.copyOf(b, 100));
        bad(new String[] {"eval", tiny.toString()}, "tiny.safetensors", "offset 0: header length");
        Path flipped = dir.resolve("flipped.safetensors");
        byte[] c = b.clone();
        c[8] = '[';
        Files.write(flipped, c);
        bad(new String[] {"predict", flipped.toString(), model.toString()}, "flipped.safetensors", "offset 8");
    }

    @Test
    void verboseAddsTheStackTrace() {
        Cli c = Cli.run("eval", dir.resolve("nope.safetensors").toString(), "--verbose");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("\tat "), c.err());
    }

    @Test
    void fashionMnistMissingSaysTheAptCommand() {
        Path missing = dir.resolve("no-fashion");
        System.setProperty("vgrad.fashion-mnist", missing.toString()); // as on a machine without the package
        try {
            bad(new String[] {"train", "--data", "fashion-mnist", "--no-progress", "--out", dir.resolve("o5").toString()},
                    missing.resolve("train-images-idx3-ubyte.gz").toString(), "apt-get install -y dataset-fashion-mnist");
        } finally {
            System.clearProperty("vgrad.fashion-mnist");
        }
        noOutput("o5");
        if (!Files.exists(DataSource.FASHION_MNIST.resolve("train-images-idx3-ubyte.gz"))) {
            bad(new String[] {"train", "--data", "fashion-mnist", "--no-progress", "--out", dir.resolve("o5").toString()},
                    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "apt-get install -y dataset-fashion-mnist");
        }
    }

    @Test
    void badOptionValues() {
        Cli c = Cli.run("train", "--epochs", "zero");
        assertEquals(2, c.code(), c::toString);
        bad(new String[] {"train", "--activation", "swish", "--out", dir.resolve("o6").toString()}, "unknown activation 'swish'");
        bad(new String[] {"train", "--validation", "0.9", "--out", dir.resolve("o7").toString()}, "--validation must be in (0, 0.5)");
        noOutput("o6");
        noOutput("o7");
    }
}
