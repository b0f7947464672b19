package dev.vgrad.cli.data;

import dev.vgrad.io.DataException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Numeric CSV files (gzip'd or not) read with Commons CSV: one sample per line, features and, optionally,
 * an integer class label in one column. A first line whose cells are all non-numeric is a header and skipped.
 * Faults name the file, the line and the column: wrong cell count, a non-numeric or non-finite cell, a label
 * that is not a whole number in range. Lines are the file's own, counting the line breaks inside quoted cells.
 */
public final class CsvData {
    private CsvData() {}

    /** Rows as read: raw feature values (row-major), labels (or null when there is no label column), and each row's first line. */
    public record Table(Path file, int rows, int features, float[] x, int[] y, long[] lines) {}

    /**
     * Reads {@code file}. {@code labelColumn}: 0-based index of the label, -1 for the last column, or
     * {@link #NO_LABEL}. {@code features}: the feature count required (or -1: taken from the first row).
     * {@code classes}: labels must be below it (or -1: any non-negative whole number).
     */
    public static Table read(Path file, int labelColumn, int features, int classes) { return read(file, labelColumn, features, classes, false); }

    /**
     * As {@link #read(Path, int, int, int)}; with {@code labelOptional} (and a known feature count) rows of exactly
     * {@code features} cells have no label, rows of {@code features + 1} cells have one at {@code labelColumn}.
     */
    public static Table read(Path file, int labelColumn, int features, int classes, boolean labelOptional) {
        // cells are trimmed here, not by the parser: a quoted cell's leading or trailing line breaks still count as lines
        try (Reader r = reader(file); CSVParser p = CSVFormat.DEFAULT.builder().setIgnoreEmptyLines(false).setTrim(false).get().parse(r)) {
            float[] x = new float[1024];
            int[] y = new int[64];
            long[] lines = new long[64];
            int rows = 0, cols = -1, labelAt = -1;
            boolean first = true;
            long ended = p.getCurrentLineNumber(); // line breaks read so far: a record starts on the line after them
            for (CSVRecord rec : p) {
                // a quoted cell may hold line breaks, so record numbers are not line numbers: the parser's line count is
                long line = ended + 1;
                ended = p.getCurrentLineNumber();
                String[] raw = rec.values(), cells = new String[raw.length];
                for (int c = 0; c < raw.length; c++) cells[c] = raw[c].trim();
                if (cells.length == 1 && cells[0].isEmpty()) continue;
                if (first) {
                    first = false;
                    if (isHeader(cells)) continue;
                }
                if (cols < 0) {
                    cols = cells.length;
                    boolean noLabel = labelColumn == NO_LABEL || (labelOptional && features >= 0 && cols == features);
                    labelAt = noLabel ? -1 : labelColumn < 0 ? cols + labelColumn : labelColumn;
                    if (labelColumn != NO_LABEL && (labelAt < 0 || labelAt >= cols)) {
                        throw new DataException(file + ": line " + line + ": label column " + (labelColumn + 1) + " does not exist in a row of " + cols + " cells");
                    }
                    int f = labelAt >= 0 ? cols - 1 : cols;
                    if (f == 0) throw new DataException(file + ": line " + line + ": no feature columns");
                    if (features >= 0 && f != features) {
                        throw new DataException(file + ": line " + line + ": " + cols + " cells, expected " + (labelAt >= 0 ? features + 1 : features)
                                + " (" + features + " features" + (labelAt >= 0 ? " and a label" : "") + ")");
                    }
                    features = f;
                }
                if (cells.length != cols) {
                    throw new DataException(file + ": line " + line + ": " + cells.length + " cells, expected " + cols + " as on the first data line");
                }
                if ((long) (rows + 1) * features > Integer.MAX_VALUE - 8) throw new DataException(file + ": line " + line + ": too many values");
                if ((rows + 1) * features > x.length) x = Arrays.copyOf(x, Math.max(x.length * 2, (rows + 1) * features));
                if (rows + 1 > y.length) {
                    y = Arrays.copyOf(y, y.length * 2);
                    lines = Arrays.copyOf(lines, lines.length * 2);
                }
                int j = 0;
                long cellLine = line; // the line each cell starts on: after the line breaks of the cells before it
                for (int c = 0; c < cols; c++) {
                    String cell = cells[c];
                    if (c == labelAt) {
                        y[rows] = label(file, cellLine, c, cell, classes);
                    } else {
                        x[rows * features + j++] = number(file, cellLine, c, cell);
                    }
                    cellLine += lineBreaks(raw[c]);
                }
                lines[rows] = line;
                rows++;
            }
            if (rows == 0) throw new DataException(file + ": no data rows");
            return new Table(file, rows, features, Arrays.copyOf(x, rows * features), labelAt >= 0 ? Arrays.copyOf(y, rows) : null,
                    Arrays.copyOf(lines, rows));
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new DataException(file + ": cannot read: permission denied");
        } catch (UncheckedIOException e) { // Commons CSV wraps parse errors (e.g. an unclosed quote)
            throw new DataException(file + ": " + oneLine(e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
        } catch (IOException e) {
            throw new DataException(file + ": cannot read: " + oneLine(e.getMessage()));
        }
    }

    /** {@code labelColumn} for files without labels. */
    public static final int NO_LABEL = Integer.MIN_VALUE;

    /** Parses a label-column option: "last", "first", "none" or a 1-based column number. */
    public static int labelColumn(String option) {
        return switch (option) {
            case "last" -> -1;
            case "first" -> 0;
            case "none" -> NO_LABEL;
            default -> {
                int c;
                try {
                    c = Integer.parseInt(option);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--label-column must be last, first, none or a column number from 1, got '" + option + "'");
                }
                if (c < 1) throw new IllegalArgumentException("--label-column numbers start at 1, got " + c);
                yield c - 1;
            }
        };
    }

    private static boolean isHeader(String[] cells) {
        for (String cell : cells) if (parses(cell)) return false;
        return true;
    }

    /** Line breaks in a cell as the parser counts lines: CR LF, a lone CR or a lone LF is one. */
    private static int lineBreaks(String cell) {
        int n = 0;
        for (int i = 0; i < cell.length(); i++) {
            char ch = cell.charAt(i);
            if (ch == '\n' || (ch == '\r' && (i + 1 == cell.length() || cell.charAt(i + 1) != '\n'))) n++;
        }
        return n;
    }

    private static boolean parses(String s) {
        try {
            Float.parseFloat(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static float number(Path file, long line, int col, String cell) {
        float v;
        try {
            v = Float.parseFloat(cell);
        } catch (NumberFormatException e) {
            throw new DataException(file + ": line " + line + ", column " + (col + 1) + ": '" + clip(cell) + "' is not a number");
        }
        if (!Float.isFinite(v)) throw new DataException(file + ": line " + line + ", column " + (col + 1) + ": '" + clip(cell) + "' is not finite");
        return v;
    }

    private static int label(Path file, long line, int col, String cell, int classes) {
        double v;
        try {
            v = Double.parseDouble(cell);
        } catch (NumberFormatException e) {
            throw new DataException(file + ": line " + line + ", column " + (col + 1) + ": label '" + clip(cell) + "' is not a number");
        }
        if (v != Math.rint(v) || v < 0 || v > 1_000_000) {
            throw new DataException(file + ": line " + line + ", column " + (col + 1) + ": label '" + clip(cell) + "' is not a class number >= 0");
        }
        if (classes > 0 && v >= classes) {
            throw new DataException(file + ": line " + line + ", column " + (col + 1) + ": label " + (int) v + " is outside [0, " + classes + ")");
        }
        return (int) v;
    }

    private static Reader reader(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read(), b1 = raw.read();
        raw.reset();
        InputStream in = b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
        // a UTF-8 byte-order mark (spreadsheets' "CSV UTF-8") is not part of the first cell
        in.mark(3);
        if (in.read() != 0xEF || in.read() != 0xBB || in.read() != 0xBF) in.reset();
        return new InputStreamReader(in, StandardCharsets.UTF_8);
    }

    private static String clip(String s) { return s.length() <= 30 ? s : s.substring(0, 30) + "..."; }

    private static String oneLine(String s) { return s == null ? "" : s.lines().findFirst().orElse(""); }
}
