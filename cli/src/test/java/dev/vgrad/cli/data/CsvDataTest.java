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

    /**
     * A quoted cell may span lines: faults are reported at the file's line, not the record number (a bad number after a
     * three-line cell was reported at line 3 when it sits on line 5), and a cell after a multi-line cell on its own line.
     */
    @Test
    void aBadValueAfterAMultiLineQuotedCellIsReportedAtItsFileLine() throws Exception {
        Path f = dir.resolve("multiline.csv");
        // line 1: header whose second cell spans lines 1-3; line 4: good row; line 5: a bad number
        Files.writeString(f, "a,\"b\nnote\nmore\",label\n1,2,0\n3,oops,1\n", StandardCharsets.UTF_8);
        String m = assertThrows(DataException.class, () -> CsvData.read(f, -1, -1, -1)).getMessage();
        assertTrue(m.contains("line 5, column 2: 'oops' is not a number"), m);
        // CR LF files, an empty line, and the row after a data row whose quoted label cell is "1" with line breaks around it
        Path g = dir.resolve("crlf.csv");
        Files.writeString(g, "1,2,0\r\n\r\n3,4,\"\r\n1\r\n\"\r\n5,6,x\r\n", StandardCharsets.UTF_8);
        String n = assertThrows(DataException.class, () -> CsvData.read(g, -1, -1, -1)).getMessage();
        assertTrue(n.contains("line 6, column 3: label 'x' is not a number"), n);
        // within a record: a bad cell after a two-line cell starts on the record's second line
        Path h = dir.resolve("within.csv");
        Files.writeString(h, "1,2,0\n\"3\n\",nan?,1\n", StandardCharsets.UTF_8);
        String k = assertThrows(DataException.class, () -> CsvData.read(h, -1, -1, -1)).getMessage();
        assertTrue(k.contains("line 3, column 2: 'nan?' is not a number"), k);
        // the rows keep their first lines (predict prints them)
        Path ok = dir.resolve("ok.csv");
        Files.writeString(ok, "\"1\n\",2,0\n\n3,4,1\n", StandardCharsets.UTF_8);
        CsvData.Table t = CsvData.read(ok, -1, -1, -1);
        assertArrayEquals(new long[] {1, 4}, t.lines());
        assertArrayEquals(new float[] {1, 2, 3, 4}, t.x());
    }
}
