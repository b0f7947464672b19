package dev.vgrad.cli.report;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

/** {@code metrics.csv}: a header and one row per epoch (Commons CSV), written whole and atomically after every epoch. */
public final class MetricsCsv {
    private MetricsCsv() {}

    /** The whole file's text. */
    public static String format(List<Epoch> epochs) {
        StringWriter w = new StringWriter();
        try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(Epoch.COLUMNS).setRecordSeparator('\n').get())) {
            for (Epoch e : epochs) p.printRecord((Object[]) e.cells());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /** Parses what {@link #format} wrote (also used for the history kept in a checkpoint). */
    public static List<Epoch> parse(String text) {
        List<Epoch> r = new ArrayList<>();
        try (CSVParser p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(new StringReader(text))) {
            for (CSVRecord rec : p) r.add(Epoch.parse(rec.values()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return r;
    }

    public static void write(Path file, List<Epoch> epochs) {
        AtomicFiles.write(file, format(epochs).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
