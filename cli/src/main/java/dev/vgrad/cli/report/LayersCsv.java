package dev.vgrad.cli.report;

import dev.vgrad.train.Telemetry;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * {@code layers.csv}, beside metrics.csv: one row per sampled step and dense layer with the trainer's
 * telemetry (gradient, weight and update norms, activation mean, saturated or dead fraction; empty
 * where a figure does not apply). Collected by a {@link Telemetry.Listener}, written whole and atomically.
 */
public final class LayersCsv implements Telemetry.Listener {
    public static final String[] COLUMNS = {"step", "epoch", "layer", "activation", "grad_norm", "weight_norm", "update_ratio",
        "activation_mean", "saturated_fraction", "dead_fraction"};

    /** One layer at one sampled step. */
    public record Row(long step, int epoch, String layer, String activation, double gradNorm, double weightNorm, double updateRatio,
                      double activationMean, double saturated, double dead) {}

    private final List<Row> rows = new ArrayList<>();
    private int epoch;

    /** The epoch the next samples belong to (1-based). */
    public void epoch(int e) { this.epoch = e; }

    @Override
    public void sampled(Telemetry t, long step) {
        for (int l = 0; l < t.layerCount(); l++) {
            rows.add(new Row(step, epoch, t.layers().get(l), t.activation(l).id(), t.gradNorm(l), t.weightNorm(l), t.updateRatio(l),
                    t.activationMean(l), t.saturatedFraction(l), t.deadFraction(l)));
        }
    }

    public List<Row> rows() { return rows; }

    /** Resuming: keeps the rows of an earlier run's file from steps before {@code step} (a missing file keeps nothing). */
    public void keep(Path file, long step) {
        if (!java.nio.file.Files.exists(file)) return;
        try (var p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(java.nio.file.Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8))) {
            for (var r : p) {
                long s = Long.parseLong(r.get("step"));
                if (s >= step) continue;
                rows.add(new Row(s, Integer.parseInt(r.get("epoch")), r.get("layer"), r.get("activation"), num(r.get("grad_norm")),
                        num(r.get("weight_norm")), num(r.get("update_ratio")), num(r.get("activation_mean")), num(r.get("saturated_fraction")),
                        num(r.get("dead_fraction"))));
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": cannot read the earlier run's telemetry: " + e.getMessage());
        }
    }

    private static double num(String c) { return c.isEmpty() ? Double.NaN : Double.parseDouble(c); }

    public String format() {
        StringWriter w = new StringWriter();
        try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(COLUMNS).setRecordSeparator('\n').get())) {
            for (Row r : rows) {
                p.printRecord(r.step(), r.epoch(), r.layer(), r.activation(), cell(r.gradNorm()), cell(r.weightNorm()), cell(r.updateRatio()),
                        cell(r.activationMean()), cell(r.saturated()), cell(r.dead()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    private static String cell(double v) { return Double.isNaN(v) ? "" : Double.toString(v); }

    public void write(Path file) {
        AtomicFiles.write(file, format().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
