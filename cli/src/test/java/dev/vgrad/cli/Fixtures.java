package dev.vgrad.cli;

import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Small data files for the tests, made from the embedded digits. */
final class Fixtures {
    private Fixtures() {}

    /** The first n digits as raw CSV rows (pixels 0..16, then the label), as scikit-learn ships them. */
    static Path digitsCsv(Path file, int n) throws IOException {
        Dataset d = Digits.load();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d.features(); j++) sb.append(Math.round(d.x()[i * d.features() + j] * 16)).append(',');
            sb.append(d.y()[i]).append('\n');
        }
        Files.writeString(file, sb);
        return file;
    }

    /** An idx3-ubyte file of n images of rows x cols, gzip'd when asked; pixel (i, p) = digits pixel scaled to 0..255. */
    static Path idxImages(Path file, int n, int rows, int cols, boolean gzip) throws IOException {
        Dataset d = Digits.load();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {0, 0, 8, 3});
        for (int v : new int[] {n, rows, cols}) b.write(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < rows * cols; p++) b.write(Math.round(d.x()[(i % d.rows()) * 64 + p % 64] * 255));
        }
        return write(file, b.toByteArray(), gzip);
    }

    static Path idxLabels(Path file, int n, boolean gzip) throws IOException {
        Dataset d = Digits.load();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[] {0, 0, 8, 1, (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        for (int i = 0; i < n; i++) b.write(d.y()[i % d.rows()]);
        return write(file, b.toByteArray(), gzip);
    }

    private static Path write(Path file, byte[] bytes, boolean gzip) throws IOException {
        try (OutputStream o = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            o.write(bytes);
        }
        return file;
    }
}
