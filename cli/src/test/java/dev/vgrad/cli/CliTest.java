package dev.vgrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.report.Epoch;
import java.awt.image.BufferedImage;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end through {@link Main#run}: train, eval, predict, resume, info. */
class CliTest {
    @TempDir static Path dir;
    static Path run;
    static Cli trained;

    @BeforeAll
    static void trainDigits() {
        run = dir.resolve("digits");
        trained = Cli.run("train", "--epochs", "3", "--seed", "7", "--layers", "32", "--out", run.toString());
        assertEquals(0, trained.code(), trained::toString);
    }

    @Test
    void trainWritesModelMetricsAndChart() throws Exception {
        assertTrue(trained.out().contains("epoch 1/3"), "progress bar and rows are printed");
        trained.line("epoch 3/3  train loss");
        assertTrue(trained.line("total ").contains("samples/s"));
        for (String f : List.of("model.safetensors", "checkpoint.safetensors", "metrics.csv", "training.png")) {
            assertTrue(Files.size(run.resolve(f)) > 0, f);
        }
        List<CSVRecord> rows = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(Files.readString(run.resolve("metrics.csv")))).getRecords();
        assertEquals(3, rows.size());
        assertEquals(List.of(Epoch.COLUMNS), rows.get(0).getParser().getHeaderNames());
        for (int i = 0; i < 3; i++) {
            assertEquals(Integer.toString(i + 1), rows.get(i).get("epoch"));
            double acc = Double.parseDouble(rows.get(i).get("val_accuracy"));
            assertTrue(acc > 0.1 && acc <= 1, "val accuracy " + acc);
        }
        assertTrue(Double.parseDouble(rows.get(2).get("train_loss")) < Double.parseDouble(rows.get(0).get("train_loss")), "loss falls");
        BufferedImage png = ImageIO.read(run.resolve("training.png").toFile());
        assertEquals(1280, png.getWidth());
        assertEquals(420, png.getHeight());
        try (var s = Files.list(run)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList(), "no temporary files left");
        }
    }

    @Test
    void evalReproducesTheReportedTestAccuracyExactly() {
        String reported = trained.line("test loss ").substring("test ".length()); // "loss L  accuracy A% (c/n)"
        Cli eval = Cli.run("eval", run.resolve("model.safetensors").toString());
        assertEquals(0, eval.code(), eval::toString);
        assertEquals(reported, eval.line("loss "));
        assertTrue(eval.out().contains("confusion matrix"));
        // the confusion matrix's rows add up to the test set
        int sum = 0;
        String[] lines = eval.out().split("\n");
        for (int i = lines.length - 10; i < lines.length; i++) {
            String[] cells = lines[i].trim().split("\\s+");
            for (int j = 1; j < cells.length; j++) sum += Integer.parseInt(cells[j]);
        }
        assertTrue(reported.endsWith("/" + sum + ")"), reported + " vs " + sum);
        ModelFile m = ModelFile.load(run.resolve("model.safetensors"));
        assertEquals(m.meta("vgrad.test.accuracy", ""), Double.toString(Double.parseDouble(m.meta("vgrad.test.accuracy", "")))); // saved exactly
    }

    @Test
    void predictPrintsParsableCsvForCsvRowsAndIdxImages() throws Exception {
        Path csv = Fixtures.digitsCsv(dir.resolve("five.csv"), 5);
        Cli p = Cli.run("predict", run.resolve("model.safetensors").toString(), csv.toString());
        assertEquals(0, p.code(), p::toString);
        List<CSVRecord> recs = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(new StringReader(p.out())).getRecords();
        assertEquals(5, recs.size());
        assertEquals("line", recs.get(0).getParser().getHeaderNames().get(0));
        int right = 0;
        for (int i = 0; i < 5; i++) {
            CSVRecord r = recs.get(i);
            assertEquals(Integer.toString(i + 1), r.get("line"));
            double sum = 0, best = -1;
            int arg = -1;
            for (int j = 0; j < 10; j++) {
                double v = Double.parseDouble(r.get("p" + j));
                assertTrue(v >= 0 && v <= 1);
                sum += v;
                if (v > best) {
                    best = v;
                    arg = j;
                }
            }
            assertEquals(1.0, sum, 1e-4);
            assertEquals(arg, Integer.parseInt(r.get("class")));
            if (r.get("class").equals(r.get("label"))) right++;
        }
        assertTrue(right >= 3, right + " of 5 right");

        Path idx = Fixtures.idxImages(dir.resolve("four-images-idx3-ubyte.gz"), 4, 8, 8, true);
        Cli q = Cli.run("predict", run.resolve("model.safetensors").toString(), idx.toString());
        assertEquals(0, q.code(), q::toString);
        List<CSVRecord> imgs = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(new StringReader(q.out())).getRecords();
        assertEquals(4, imgs.size());
        assertEquals("3", imgs.get(3).get("image"));
    }

    @Test
    void resumeAfterAStopEqualsAnUninterruptedRunBitwise() throws Exception {
        Path a = dir.resolve("stopped"), b = dir.resolve("straight");
        String[] common = {"--epochs", "4", "--seed", "11", "--layers", "24,16", "--optimizer", "adam", "--batch", "50", "--no-progress"};
        Cli first = Cli.run(concat(new String[] {"train", "--out", a.toString(), "--stop-after", "2"}, common));
        assertEquals(0, first.code(), first::toString);
        assertTrue(first.out().contains("stopped after epoch 2"));
        assertFalse(Files.exists(a.resolve("model.safetensors")));
        Cli resumed = Cli.run("train", "--out", a.toString(), "--resume", "--no-progress");
        assertEquals(0, resumed.code(), resumed::toString);
        assertTrue(resumed.out().contains("resuming"), resumed.out());
        assertFalse(resumed.out().contains("epoch 1/4"));
        Cli straight = Cli.run(concat(new String[] {"train", "--out", b.toString()}, common));
        assertEquals(0, straight.code(), straight::toString);

        ModelFile ma = ModelFile.load(a.resolve("model.safetensors")), mb = ModelFile.load(b.resolve("model.safetensors"));
        assertEquals(mb.tensors().keySet(), ma.tensors().keySet());
        for (Map.Entry<String, float[]> e : mb.tensors().entrySet()) {
            float[] x = ma.tensors().get(e.getKey()), y = e.getValue();
            int[] xb = new int[x.length], yb = new int[y.length];
            for (int i = 0; i < x.length; i++) {
                xb[i] = Float.floatToRawIntBits(x[i]);
                yb[i] = Float.floatToRawIntBits(y[i]);
            }
            assertArrayEquals(yb, xb, e.getKey());
        }
        assertArrayEquals(Files.readAllBytes(b.resolve("model.safetensors")), Files.readAllBytes(a.resolve("model.safetensors")));
        assertEquals(straight.line("test loss"), resumed.line("test loss"));
        // the resumed run's metrics.csv holds all four epochs, with the same losses
        String sa = Files.readString(a.resolve("metrics.csv")), sb = Files.readString(b.resolve("metrics.csv"));
        assertEquals(5, sa.lines().count());
        assertEquals(column(sb, 1), column(sa, 1));
    }

    /** --describe prints the compiled plan and how each product splits over the threads, before the first epoch. */
    @Test
    void describePrintsThePlanAndTheSplitBeforeTraining() {
        Cli c = Cli.run("train", "--out", dir.resolve("described").toString(), "--epochs", "1", "--layers", "32", "--threads", "2",
                "--describe", "--no-progress");
        assertEquals(0, c.code(), c::toString);
        String plan = c.line("plan: training, batch ");
        assertTrue(c.out().indexOf(plan) < c.out().indexOf("epoch 1/1"), c::toString);
        c.line("gemm: ");
        c.line("on 2 threads (the caller and 1 pool worker):");
        assertTrue(c.line("optimizer: ").contains("its update in "), c::toString);
    }

    /** --profile prints, after training, each plan step's time over the run's training steps, the update's and the rest. */
    @Test
    void profilePrintsWhereAStepsTimeWentAfterTraining() {
        Cli c = Cli.run("train", "--out", dir.resolve("profiled").toString(), "--epochs", "2", "--layers", "32", "--threads", "1",
                "--batch", "32", "--profile", "--no-progress");
        assertEquals(0, c.code(), c::toString);
        // two epochs of the training part, in batches of 32: every training step, no validation pass
        int train = Integer.parseInt(c.line("vgrad train: digits, ").replaceAll("^vgrad train: digits, (\\d+) train .*", "$1"));
        String head = c.line("profile: ");
        assertTrue(head.startsWith(String.format("profile: %,d training steps on 1 thread, %,d samples: ", 2 * ((train + 31) / 32), 2 * train)),
                head);
        assertTrue(c.out().indexOf("total ") < c.out().indexOf(head), "after the run: " + c);
        assertTrue(c.line("  0       fwd  gemm.nn+bias+relu ").contains("fc1"), c::toString);
        assertTrue(c.out().lines().anyMatch(l -> l.contains(" update ") && l.contains("adam, 1 part")), c::toString);
        assertTrue(c.out().lines().anyMatch(l -> l.contains(" rest ") && l.contains("input, loss check, telemetry")), c::toString);
    }

    /** --epochs on a resume below the epochs the checkpoint already holds cannot be honoured: a clear refusal, nothing written. */
    @Test
    void resumeWithFewerEpochsThanTheCheckpointHoldsIsRejected() throws Exception {
        Path a = dir.resolve("fewer");
        Cli first = Cli.run("train", "--out", a.toString(), "--epochs", "3", "--stop-after", "2", "--layers", "8", "--no-progress");
        assertEquals(0, first.code(), first::toString);
        byte[] checkpoint = Files.readAllBytes(a.resolve("checkpoint.safetensors"));
        Cli r = Cli.run("train", "--out", a.toString(), "--resume", "--epochs", "1", "--no-progress");
        assertEquals(Main.BAD_INPUT, r.code(), r::toString);
        assertTrue(r.err().contains("--epochs 1") && r.err().contains("epoch 2"), r.err());
        assertFalse(Files.exists(a.resolve("model.safetensors")), "no model claiming 1 epoch from 2 epochs of training");
        assertArrayEquals(checkpoint, Files.readAllBytes(a.resolve("checkpoint.safetensors")));
    }

    @Test
    void trainsOnAFolderOfIdxFilesAndOnCsv() throws Exception {
        Path idx = Files.createDirectories(dir.resolve("mnist-like"));
        Fixtures.idxImages(idx.resolve("train-images-idx3-ubyte.gz"), 300, 8, 8, true);
        Fixtures.idxLabels(idx.resolve("train-labels-idx1-ubyte.gz"), 300, true);
        Fixtures.idxImages(idx.resolve("t10k-images-idx3-ubyte"), 60, 8, 8, false);
        Fixtures.idxLabels(idx.resolve("t10k-labels-idx1-ubyte"), 60, false);
        Cli t = Cli.run("train", "--data", idx.toString(), "--epochs", "2", "--out", dir.resolve("idx-run").toString(), "--no-progress");
        assertEquals(0, t.code(), t::toString);
        assertTrue(t.out().contains("270 train / 30 validation / 60 test samples"), t.out());

        Path csv = Fixtures.digitsCsv(dir.resolve("train.csv"), 200);
        Cli c = Cli.run("train", "--data", csv.toString(), "--epochs", "2", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9",
                "--out", dir.resolve("csv-run").toString(), "--no-progress");
        assertEquals(0, c.code(), c::toString);
        ModelFile m = ModelFile.load(dir.resolve("csv-run/model.safetensors"));
        assertEquals("16.0", m.meta("vgrad.input.scale", ""));
        Cli e = Cli.run("eval", dir.resolve("csv-run/model.safetensors").toString(), "--data", csv.toString());
        assertEquals(0, e.code(), e::toString);
        assertTrue(e.out().contains("train.csv/test (40 samples)"), e.out()); // the training data: its held-out test part
    }

    @Test
    void infoNamesTheJdkSpeciesAndJit() {
        Cli i = Cli.run("info");
        assertEquals(0, i.code(), i::toString);
        assertTrue(i.line("java ").contains(Runtime.version().toString()));
        assertTrue(i.line("species ").contains(dev.vgrad.kernel.Simd.LANES + " float lanes"));
        assertTrue(i.line("jit ").length() > 10);
        assertTrue(i.out().contains("threads "));
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static List<String> column(String csv, int c) { return csv.lines().map(l -> l.split(",")[c]).toList(); }
}
