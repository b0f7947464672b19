package dev.vgrad.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir Path dir;

    /** Two 2x3 images, bytes written out by hand: magic 00 00 08 03, sizes 2, 2, 3 (big-endian), 12 pixels. */
    static final byte[] IMAGES = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
            0, 51, 102, (byte) 153, (byte) 204, (byte) 255, /* image 1 */ 1, 2, 3, 4, 5, 6};
    static final byte[] LABELS = {0, 0, 8, 1, 0, 0, 0, 2, 7, 3};

    @Test
    void readsHandWrittenFilesPlainAndGzipped() throws Exception {
        for (boolean gz : new boolean[] {false, true}) {
            Path im = write("im" + gz, IMAGES, gz), lb = write("lb" + gz, LABELS, gz);
            Idx.Images images = Idx.images(im);
            assertEquals(2, images.count());
            assertEquals(2, images.rows());
            assertEquals(3, images.cols());
            assertArrayEquals(new int[] {7, 3}, Idx.labels(lb));
            Dataset d = Idx.dataset("t", im, lb, 10);
            assertEquals(6, d.features());
            assertArrayEquals(new float[] {0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f}, java.util.Arrays.copyOf(d.x(), 6), 1e-7f);
        }
    }

    @Test
    void faultsNameTheFileAndOffset() throws Exception {
        Path cut = write("cut", java.util.Arrays.copyOf(IMAGES, 20), true);
        String m = assertThrows(DataException.class, () -> Idx.images(cut)).getMessage();
        assertTrue(m.startsWith(cut + ": offset 20: file ends early"), m);
        byte[] lie = IMAGES.clone();
        lie[4] = 0x7f; // 2^31-ish images: the reader must fail at the end of data, not allocate them
        Path big = write("big", lie, false);
        assertTrue(assertThrows(DataException.class, () -> Idx.images(big)).getMessage().contains("values do not fit"));
        lie[4] = 0;
        lie[7] = 100; // 100 images promised, 2 present
        Path short2 = write("short", lie, false);
        assertTrue(assertThrows(DataException.class, () -> Idx.images(short2)).getMessage().contains("offset 28: file ends early"));
        Path labelsAsImages = write("lab", LABELS, false);
        assertTrue(assertThrows(DataException.class, () -> Idx.images(labelsAsImages)).getMessage().contains("offset 3: 1 dimensions, expected 3"));
        byte[] outOfRange = LABELS.clone();
        outOfRange[9] = 12;
        Path lb = write("lb12", outOfRange, false), im = write("im", IMAGES, false);
        assertTrue(assertThrows(DataException.class, () -> Idx.dataset("t", im, lb, 10)).getMessage().contains("offset 9: label 12 is outside [0, 10)"));
        assertTrue(assertThrows(DataException.class, () -> Idx.images(dir.resolve("none"))).getMessage().endsWith("no such file"));
    }

    private Path write(String name, byte[] bytes, boolean gz) throws Exception {
        Path p = dir.resolve(name);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = gz ? new GZIPOutputStream(b) : b) {
            o.write(bytes);
        }
        Files.write(p, b.toByteArray());
        return p;
    }
}
