package dev.vgrad.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The embedded digits dataset: UCI "Optical Recognition of Handwritten Digits" (test part, 1,797
 * 8x8 images, 10 classes) as redistributed by scikit-learn. Creators E. Alpaydin and C. Kaynak (1998);
 * UCI lists it under CC BY 4.0. Attribution: {@code dev/vgrad/data/DIGITS-NOTICE.md} beside the file.
 */
public final class Digits {
    private Digits() {}

    public static final String RESOURCE = "/dev/vgrad/data/digits.csv.gz";
    public static final int ROWS = 1797, FEATURES = 64, CLASSES = 10;

    /** Loads the 1,797 samples; pixels 0..16 are scaled to [0, 1]. */
    public static Dataset load() {
        try (InputStream raw = Digits.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) throw new IllegalStateException("embedded dataset " + RESOURCE + " is missing from the jar");
            BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII));
            float[] x = new float[ROWS * FEATURES];
            int[] y = new int[ROWS];
            int row = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) continue;
                if (row >= ROWS) throw new IllegalStateException(RESOURCE + ": more than " + ROWS + " rows");
                String[] cells = line.split(",");
                if (cells.length != FEATURES + 1) {
                    throw new IllegalStateException(RESOURCE + ": line " + (row + 1) + " has " + cells.length + " cells, expected " + (FEATURES + 1));
                }
                for (int j = 0; j < FEATURES; j++) x[row * FEATURES + j] = Float.parseFloat(cells[j]) / 16f;
                y[row] = (int) Float.parseFloat(cells[FEATURES]);
                row++;
            }
            if (row != ROWS) throw new IllegalStateException(RESOURCE + ": " + row + " rows, expected " + ROWS);
            return new Dataset("digits", x, y, ROWS, FEATURES, CLASSES);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }
}
