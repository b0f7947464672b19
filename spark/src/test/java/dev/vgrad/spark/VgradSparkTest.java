package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.io.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spark-submit entry point end to end: CSV in, model file out, test accuracy reported. */
class VgradSparkTest {
    static void writeCsv(Dataset d, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < d.features(); j++) sb.append('p').append(j).append(',');
        sb.append("label\n");
        for (int r = 0; r < d.rows(); r++) {
            for (int j = 0; j < d.features(); j++) sb.append(d.x()[r * d.features() + j]).append(',');
            sb.append(d.y()[r]).append('\n');
        }
        Files.writeString(file, sb);
    }

    @Test
    void trainsFromCsvAndWritesTheModel(@TempDir Path dir) throws IOException {
        Dataset.Split split = SparkTests.digits();
        writeCsv(split.train(), dir.resolve("train.csv"));
        writeCsv(split.test(), dir.resolve("test.csv"));
        Path model = dir.resolve("model.safetensors");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        DataParallelTrainer t = VgradSpark.run(SparkTests.session(), VgradSpark.parse(new String[] {
                "--data", dir.resolve("train.csv").toString(), "--test", dir.resolve("test.csv").toString(), "--hidden", "64",
                "--batch", "128", "--epochs", "6", "--optimizer", "adam 0.01", "--partitions", "3", "--checkpoint",
                dir.resolve("run.ckpt").toString(), "--checkpoint-every", "20", "--out", model.toString()}), new PrintStream(text, true,
                StandardCharsets.UTF_8));
        String out = text.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertTrue(out.contains("model 64-64-10 relu he-uniform, 1258 rows in 3 partitions"), out);
        assertEquals(60, t.steps(), "6 epochs of 10 steps");
        // the model file is the CLI's: it loads as a model, the weights are the trained ones, the settings are recorded
        ModelFile saved = ModelFile.load(model);
        assertEquals(0, java.util.Arrays.compare(saved.params(t.model().plan()), t.model().params()));
        assertEquals("60", saved.meta("vgrad.spark.step", "?"));
        assertEquals(60, Checkpoint.read(dir.resolve("run.ckpt")).step(), "the last checkpoint is the end of training");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("test: 359 rows, loss [0-9.]+, accuracy ([0-9.]+)%").matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Double.parseDouble(m.group(1)) >= 90, "test accuracy " + m.group(1));
    }

    @Test
    void aNonNumericCellIsReportedWithItsRowAndColumn(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "a,b,label\n1,2,0\n3,x,1\n5,6,1\n");
        Exception e = assertThrows(Exception.class, () -> VgradSpark.run(SparkTests.session(),
                VgradSpark.parse(new String[] {"--data", csv.toString(), "--classes", "2", "--steps", "1"}), new PrintStream(
                        new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        String all = e.toString() + (e.getCause() == null ? "" : e.getCause().toString());
        assertTrue(all.contains("row 1, column 'b': 'x' is not a finite number"), all);
    }

    @Test
    void usageWithoutData() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VgradSpark.parse(new String[] {"--batch", "3"}));
        assertTrue(e.getMessage().contains("usage: VgradSpark --data"), e.getMessage());
        assertEquals(Map.of("data", "digits", "resume", "true"), VgradSpark.parse(new String[] {"--data", "digits", "--resume"}));
    }
}
