package dev.vgrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeing backpropagation through the CLI: layers.csv and gradients.png, divergence, graph, demos. */
class TelemetryCliTest {
    @TempDir Path dir;

    static List<CSVRecord> csv(Path f) throws Exception {
        return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(new StringReader(Files.readString(f))).getRecords();
    }

    @Test
    void trainWritesPerLayerTelemetryAndGradientsChart() throws Exception {
        Path out = dir.resolve("run");
        Cli r = Cli.run("train", "--epochs", "2", "--layers", "32,16", "--activation", "tanh", "--telemetry-every", "5", "--no-progress",
                "--out", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("gradients.png (per-layer telemetry every 5 steps)"), r.out());
        List<CSVRecord> rows = csv(out.resolve("layers.csv"));
        assertEquals(List.of("step", "epoch", "layer", "activation", "grad_norm", "weight_norm", "update_ratio", "activation_mean",
                "saturated_fraction", "dead_fraction"), rows.get(0).getParser().getHeaderNames());
        // 1258 training rows at batch 32: 40 steps per epoch, sampled at 0, 5, ..., 75: 16 samples x 3 layers
        assertEquals(16 * 3, rows.size());
        Set<String> layers = new TreeSet<>();
        for (CSVRecord row : rows) {
            layers.add(row.get("layer"));
            assertEquals(0, Long.parseLong(row.get("step")) % 5);
            assertTrue(Double.parseDouble(row.get("grad_norm")) > 0);
            assertTrue(Double.parseDouble(row.get("update_ratio")) > 0);
            if (!row.get("layer").equals("out")) {
                assertEquals("tanh", row.get("activation"));
                double sat = Double.parseDouble(row.get("saturated_fraction"));
                assertTrue(sat >= 0 && sat <= 1);
                assertEquals("", row.get("dead_fraction"));
            }
        }
        assertEquals(Set.of("fc1", "fc2", "out"), layers);
        assertEquals("2", rows.get(rows.size() - 1).get("epoch"));
        BufferedImage png = ImageIO.read(out.resolve("gradients.png").toFile());
        assertTrue(png.getWidth() > 400 && png.getHeight() > 300);
    }

    @Test
    void aResumedRunKeepsItsTelemetryAndGoesOnNumberingSteps() throws Exception {
        Path out = dir.resolve("resumed");
        Cli first = Cli.run("train", "--epochs", "2", "--layers", "16", "--stop-after", "1", "--no-progress", "--out", out.toString());
        assertEquals(0, first.code(), first::toString);
        assertEquals(4 * 2, csv(out.resolve("layers.csv")).size(), "epoch 1: steps 0, 10, 20, 30 x 2 layers");
        Cli second = Cli.run("train", "--resume", "--no-progress", "--out", out.toString());
        assertEquals(0, second.code(), second::toString);
        List<CSVRecord> rows = csv(out.resolve("layers.csv"));
        assertEquals(8 * 2, rows.size(), "both epochs, nothing twice");
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(10L * (i / 2), Long.parseLong(rows.get(i).get("step")));
            assertEquals(i < 8 ? "1" : "2", rows.get(i).get("epoch"));
        }
    }

    @Test
    void aTooHighLearningRateStopsWithTheStepTheHistoryAndALowerRate() throws Exception {
        Path out = dir.resolve("high");
        Cli r = Cli.run("train", "--optimizer", "sgd", "--lr", "16", "--layers", "32", "--epochs", "2", "--no-progress", "--out", out.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().startsWith("vgrad train: training diverged at step "), r.err());
        assertTrue(r.err().contains("loss history [") && r.err().contains("learning rate 16.0") && r.err().contains("Try a lower learning rate, e.g. 1.60"),
                r.err());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no model from a diverged run");
        assertTrue(Files.exists(out.resolve("layers.csv")), "its telemetry is kept");
    }

    @Test
    void backoffRestoresHalvesAndFinishes() throws Exception {
        Path out = dir.resolve("backoff");
        Cli r = Cli.run("train", "--optimizer", "sgd", "--lr", "16", "--layers", "32", "--epochs", "2", "--no-progress",
                "--on-divergence", "backoff", "--out", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("backoff: training diverged at step"), r.out());
        assertTrue(r.out().contains("halved the learning rate 16.0 -> 8.00 (backoff 1 of 5)"), r.out());
        assertTrue(r.out().contains("note: the loss diverged"), r.out());
        for (CSVRecord row : csv(out.resolve("metrics.csv"))) assertTrue(Double.isFinite(Double.parseDouble(row.get("train_loss"))));
        assertTrue(Files.exists(out.resolve("model.safetensors")));
    }

    /**
     * A backoff halves the rate for the rest of the run: the checkpoint must keep the halved rate, or a resumed
     * run starts its next epoch at the rate that diverged (and no longer equals the uninterrupted run).
     */
    @Test
    void aResumedRunGoesOnAtTheRateABackoffLeft() throws Exception {
        String[] common = {"--optimizer", "sgd", "--lr", "16", "--layers", "32", "--epochs", "2", "--no-progress", "--on-divergence", "backoff"};
        Path straight = dir.resolve("straight"), stopped = dir.resolve("stopped");
        Cli s = Cli.run(concat(common, "--out", straight.toString()));
        assertEquals(0, s.code(), s::toString);
        Cli first = Cli.run(concat(common, "--out", stopped.toString(), "--stop-after", "1"));
        assertEquals(0, first.code(), first::toString);
        assertTrue(first.out().contains("halved the learning rate 16.0 -> 8.00"), first.out());
        Cli second = Cli.run("train", "--resume", "--no-progress", "--on-divergence", "backoff", "--out", stopped.toString());
        assertEquals(0, second.code(), second::toString);
        assertEquals(s.line("test loss"), second.line("test loss"));
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(stopped.resolve("model.safetensors"))), "the resumed run's model is the uninterrupted run's");
        // and telemetry goes on numbering steps as the uninterrupted run does (a backoff rewinds updates, not steps)
        List<String> a = csv(straight.resolve("layers.csv")).stream().map(r -> r.get("step") + " " + r.get("epoch") + " " + r.get("layer")).toList();
        List<String> b = csv(stopped.resolve("layers.csv")).stream().map(r -> r.get("step") + " " + r.get("epoch") + " " + r.get("layer")).toList();
        assertEquals(a, b);
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length + 1);
        r[0] = "train";
        System.arraycopy(a, 0, r, 1, a.length);
        System.arraycopy(b, 0, r, 1 + a.length, b.length);
        return r;
    }

    @Test
    void badDivergenceModeIsRejected() {
        Cli r = Cli.run("train", "--on-divergence", "maybe", "--out", dir.resolve("x").toString());
        assertEquals(Main.BAD_INPUT, r.code(), r::toString);
        assertEquals("vgrad train: --on-divergence must be stop or backoff, got 'maybe'", r.err().strip());
    }

    @Test
    void graphWritesDotAndRendersItWhenGraphvizIsInstalled() throws Exception {
        Path dot = dir.resolve("plan.dot");
        Cli r = Cli.run("graph", "--layers", "16", "--format", "svg", "--out", dot.toString());
        assertEquals(0, r.code(), r::toString);
        String text = Files.readString(dot);
        assertTrue(text.startsWith("digraph plan {"));
        assertTrue(text.contains("∂L/∂fc1.W =") && text.contains("layer fc1") && text.contains("fused: dense+bias+relu"), text);
        // relu' runs in the output layer's dx product: 5 backward steps, not 6
        assertTrue(text.contains("∂L/∂fc1 =\\ngemm.nt·relu'"), text);
        assertTrue(r.out().contains("wrote " + dot + ": 8 steps (3 forward, 5 backward)"), r.out());
        Assumptions.assumeTrue(GraphCommand.findDot() != null, "Graphviz's dot is not installed");
        assertTrue(Files.readString(dir.resolve("plan.svg")).contains("<svg"));
        assertTrue(r.out().contains("plan.svg (Graphviz)"), r.out());
    }

    @Test
    void graphSaysHowToInstallGraphvizWhenDotIsMissing() throws Exception {
        Path dot = dir.resolve("g.dot");
        System.setProperty("vgrad.dot", dir.resolve("no-such-dot").toString());
        try {
            Cli r = Cli.run("graph", "--out", dot.toString());
            assertEquals(0, r.code(), r::toString);
            assertTrue(r.out().contains("sudo apt-get install -y graphviz"), r.out());
            assertTrue(Files.exists(dot));
            assertFalse(Files.exists(dir.resolve("g.svg")));
        } finally {
            System.clearProperty("vgrad.dot");
        }
    }

    @Test
    void demoVanishingPrintsEveryLayerForThreeVariantsAndDrawsThem() throws Exception {
        Cli r = Cli.run("demo", "vanishing", "--steps", "50", "--out", dir.toString());
        assertEquals(0, r.code(), r::toString);
        for (String v : List.of("sigmoid (seed 1", "relu-he (seed", "tanh (seed 1")) assertTrue(r.out().contains(v), r.out());
        assertEquals(3, r.out().lines().filter(l -> l.startsWith("  l1 ")).count(), r.out());
        assertTrue(r.out().contains("sigmoid: the first layer gets 0.0046 of the last layer's gradient at step 0"), r.out());
        BufferedImage png = ImageIO.read(dir.resolve("vanishing.png").toFile());
        assertEquals(1280, png.getWidth());
    }

    @Test
    void demoLearningRateSummarisesThreeRatesAndDrawsTheirCurves() throws Exception {
        Cli r = Cli.run("demo", "learning-rate", "--epochs", "1", "--out", dir.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("(too small): 40 steps"), r.out());
        assertTrue(r.out().contains("(good): 40 steps"), r.out());
        assertTrue(r.out().contains("(too high): diverged"), r.out());
        assertTrue(ImageIO.read(dir.resolve("learning-rate.png").toFile()).getWidth() > 400);
    }
}
