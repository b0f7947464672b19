package dev.vgrad.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * IDX files, the MNIST format (gzip'd or not, told apart by the gzip magic bytes): a big-endian header
 * {@code 0x00 0x00 TYPE NDIMS} and NDIMS 32-bit sizes, then the values. Unsigned-byte files only
 * ({@code TYPE = 0x08}), as MNIST and Fashion-MNIST ship: images {@code (count, rows, cols)}, labels {@code (count)}.
 * Every fault is a {@link DataException} naming the file and the byte offset (in the uncompressed stream).
 */
public final class Idx {
    private Idx() {}

    /** Images as read: {@code count} images of {@code rows x cols} unsigned bytes, row-major. */
    public record Images(Path file, int count, int rows, int cols, byte[] pixels) {
        public int features() { return rows * cols; }

        /** Pixels scaled to [0, 1] (value / 255), one row per image. */
        public float[] scaled() {
            float[] x = new float[pixels.length];
            for (int i = 0; i < x.length; i++) x[i] = (pixels[i] & 0xff) / 255f;
            return x;
        }
    }

    /** Reads an idx3-ubyte images file. */
    public static Images images(Path file) {
        try (InputStream in = open(file)) {
            int[] dims = header(file, in, 3);
            long n = (long) dims[0] * dims[1] * dims[2];
            if ((long) dims[1] * dims[2] == 0) throw new DataException(file + ": offset 8: image size " + dims[1] + "x" + dims[2] + " is empty");
            byte[] pixels = body(file, in, n, 16);
            return new Images(file, dims[0], dims[1], dims[2], pixels);
        } catch (IOException e) {
            throw io(file, e);
        }
    }

    /** Reads an idx1-ubyte labels file. */
    public static int[] labels(Path file) {
        try (InputStream in = open(file)) {
            int[] dims = header(file, in, 1);
            byte[] b = body(file, in, dims[0], 8);
            int[] y = new int[b.length];
            for (int i = 0; i < b.length; i++) y[i] = b[i] & 0xff;
            return y;
        } catch (IOException e) {
            throw io(file, e);
        }
    }

    /** An images file and its labels file as a dataset, pixels scaled to [0, 1]; labels must be in [0, classes). */
    public static Dataset dataset(String name, Path imagesFile, Path labelsFile, int classes) {
        Images im = images(imagesFile);
        int[] y = labels(labelsFile);
        if (y.length != im.count()) {
            throw new DataException(labelsFile + ": offset 4: " + y.length + " labels for the " + im.count() + " images of " + imagesFile);
        }
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= classes) throw new DataException(labelsFile + ": offset " + (8 + i) + ": label " + y[i] + " is outside [0, " + classes + ")");
        }
        return new Dataset(name, im.scaled(), y, im.count(), im.features(), classes);
    }

    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read(), b1 = raw.read();
        raw.reset();
        if (b0 == 0x1f && b1 == 0x8b) return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
        return raw;
    }

    private static int[] header(Path file, InputStream in, int ndims) throws IOException {
        byte[] magic = new byte[4];
        readFully(file, in, magic, 0);
        if (magic[0] != 0 || magic[1] != 0) throw new DataException(file + ": offset 0: not an IDX file (the magic number must start with two zero bytes)");
        if ((magic[2] & 0xff) != 0x08) {
            throw new DataException(file + ": offset 2: IDX type 0x" + Integer.toHexString(magic[2] & 0xff) + " is not supported (unsigned bytes, 0x08, only)");
        }
        if (magic[3] != ndims) {
            throw new DataException(file + ": offset 3: " + magic[3] + " dimensions, expected " + ndims + (ndims == 3 ? " (images)" : " (labels)"));
        }
        int[] dims = new int[ndims];
        byte[] d = new byte[4];
        for (int i = 0; i < ndims; i++) {
            readFully(file, in, d, 4 + 4 * i);
            dims[i] = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
            if (dims[i] < 0) throw new DataException(file + ": offset " + (4 + 4 * i) + ": dimension " + Integer.toUnsignedString(dims[i]) + " is too large");
        }
        return dims;
    }

    /** Reads exactly n bytes, growing the buffer only as data arrives, so a lying header cannot make us allocate n. */
    private static byte[] body(Path file, InputStream in, long n, long offset) throws IOException {
        if (n > Integer.MAX_VALUE - 8) throw new DataException(file + ": offset 4: " + n + " values do not fit in memory");
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(n, 1 << 20));
        byte[] buf = new byte[1 << 16];
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) throw new DataException(file + ": offset " + (offset + n - left) + ": file ends early (the header promises " + n + " values)");
            out.write(buf, 0, r);
            left -= r;
        }
        return out.toByteArray();
    }

    private static void readFully(Path file, InputStream in, byte[] b, long offset) throws IOException {
        int done = 0;
        while (done < b.length) {
            int r = in.read(b, done, b.length - done);
            if (r < 0) throw new DataException(file + ": offset " + (offset + done) + ": file ends inside the IDX header");
            done += r;
        }
    }

    private static DataException io(Path file, IOException e) {
        if (e instanceof NoSuchFileException) return new DataException(file + ": no such file");
        if (e instanceof AccessDeniedException) return new DataException(file + ": cannot read: permission denied");
        if (e instanceof EOFException || e instanceof java.util.zip.ZipException) return new DataException(file + ": corrupt gzip data: " + e.getMessage());
        return new DataException(file + ": cannot read: " + e.getMessage(), e);
    }
}
