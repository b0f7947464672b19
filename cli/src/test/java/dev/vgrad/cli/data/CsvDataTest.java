package dev.vgrad.cli.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.io.DataException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvDataTest {
    @TempDir Path dir;

    /** Spreadsheets save "CSV UTF-8" with a byte-order mark: it is not part of the first cell (it was: "'1.5' is not a number" at line 1). */
    @Test
    void aByteOrderMarkIsNotPartOfTheFirstCell() throws Exception {
        Path f = dir.resolve("bom.csv");
        Files.writeString(f, "\uFEFF1.5,2,0\n3,4,1\n", StandardCharsets.UTF_8);
        CsvData.Table t = CsvData.read(f, -1, -1, -1);
        assertEquals(2, t.rows());
        assertEquals(2, t.features());
        assertArrayEquals(new float[] {1.5f, 2, 3, 4}, t.x());
        assertArrayEquals(new int[] {0, 1}, t.y());
        // with a header the mark goes with it; line numbers are unchanged
        Path h = dir.resolve("bom-header.csv");
        Files.writeString(h, "\uFEFFa,b,label\n1,2,0\n3,x,1\n", StandardCharsets.UTF_8);
        String m = assertThrows(DataException.class, () -> CsvData.read(h, -1, -1, -1)).getMessage();
        assertTrue(m.contains("line 3, column 2: 'x' is not a number"), m);
    }
}
