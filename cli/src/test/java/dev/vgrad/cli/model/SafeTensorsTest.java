package dev.vgrad.cli.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir Path dir;

    /** A file whose every byte is written out here, as the specification describes it. */
    @Test
    void readsAHandWrittenFile() throws Exception {
        String json = "{\"__metadata__\":{\"who\":\"hand\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[0,12]}}   ";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = h.length;
        for (int i = 0; i < 8; i++) out.write((int) (n >>> (8 * i)) & 0xff); // u64 little-endian
        out.write(h);
        // a = [1.0, -2.0, 0.5]: 0x3F800000, 0xC0000000, 0x3F000000 little-endian
        out.write(new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0, 0, 0, 0, 0x3F});
        // b = [3.0, 0.25]: 0x40400000, 0x3E800000
        out.write(new byte[] {0, 0, 0x40, 0x40, 0, 0, (byte) 0x80, 0x3E});
        Path f = dir.resolve("hand.safetensors");
        Files.write(f, out.toByteArray());

        SafeTensors.Contents c = SafeTensors.read(f);
        assertEquals(Map.of("who", "hand"), c.metadata());
        assertEquals(List.of("b", "a"), List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new int[] {1, 3}, c.tensors().get("a").shape());
        assertArrayEquals(new float[] {1f, -2f, 0.5f}, c.tensors().get("a").data());
        assertArrayEquals(new int[] {2}, c.tensors().get("b").shape());
        assertArrayEquals(new float[] {3f, 0.25f}, c.tensors().get("b").data());
    }

    /** The bytes we write: u64 LE length, JSON padded to 8, packed LE floats, nothing else. */
    @Test
    void writtenBytesFollowTheSpecification() throws Exception {
        Path f = dir.resolve("w.safetensors");
        SafeTensors.write(f, List.of(new SafeTensors.Tensor("x", new int[] {1, 2}, new float[] {1f, 2f}),
                new SafeTensors.Tensor("y", new int[] {1}, new float[] {-1f})), Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = bb.getLong();
        assertEquals(0, (8 + n) % 8, "data section aligned to 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String expected = "{\"__metadata__\":{\"k\":\"v\"},\"x\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertEquals(expected, header.stripTrailing());
        assertTrue(header.substring(expected.length()).chars().allMatch(ch -> ch == ' '), "padding is spaces");
        assertEquals(8 + n + 12, bytes.length);
        bb.position((int) (8 + n));
        assertEquals(1f, bb.getFloat());
        assertEquals(2f, bb.getFloat());
        assertEquals(-1f, bb.getFloat());
        assertEquals(0x3F800000, ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
    }

    @Test
    void modelRoundTripRebuildsGraphAndWeights() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 5);
        b.softmaxCrossEntropy(b.dense("out", b.tanh(b.dense("fc1", x, 7)), 3));
        Trainer t = new Trainer(b.build(), new Optimizer.Adam(1e-3f), 7);
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, t, Map.of("vgrad.dataset", "test"));
        ModelFile m = ModelFile.load(f);
        assertEquals(t.plan().graph().describe(), m.graph().describe());
        assertEquals("test", m.meta("vgrad.dataset", null));
        Trainer r = m.trainer(1);
        assertEquals(1, r.batch());
        for (String p : List.of("fc1.W", "fc1.b", "out.W", "out.b")) assertArrayEquals(t.param(p), r.param(p));
        float[] flat = m.params(t.plan());
        assertArrayEquals(t.params(), flat);
    }

    @Test
    void failedSaveLeavesThePreviousFile() throws Exception {
        Path f = dir.resolve("keep.safetensors");
        SafeTensors.write(f, List.of(new SafeTensors.Tensor("x", new int[] {1}, new float[] {5f})), Map.of());
        byte[] before = Files.readAllBytes(f);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, List.of(
                new SafeTensors.Tensor("x", new int[] {1}, new float[] {1f}), new SafeTensors.Tensor("x", new int[] {1}, new float[] {2f})), Map.of()));
        assertArrayEquals(before, Files.readAllBytes(f));
        // a folder where the file should be: the rename fails, nothing is left behind
        Path blocked = dir.resolve("blocked");
        Files.createDirectories(blocked.resolve("inner"));
        assertThrows(ModelFileException.class, () -> SafeTensors.write(blocked, List.of(), Map.of()));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void headerFaultsNameTheOffsetOrTensor() throws Exception {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("offset 0: file is 3 bytes"));
        Files.write(f, new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("header length 255 exceeds"));
        writeRaw(f, "{\"t\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2);
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("F16, vgrad reads F32 only"));
        writeRaw(f, "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("needs more bytes"));
        writeRaw(f, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("overlap"));
        writeRaw(f, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("trailing bytes"));
        writeRaw(f, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4);
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(f)).getMessage().contains("not well-formed JSON"));
        assertTrue(assertThrows(ModelFileException.class, () -> SafeTensors.read(dir.resolve("none"))).getMessage().endsWith("no such file"));
    }

    static void writeRaw(Path f, String json, int dataBytes) throws Exception {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Files.write(f, b.array());
    }
    /**
     * A header may describe a tensor of more floats than a Java array holds in a file large enough to hold them
     * (over 8 GiB): the count was cast to int, so 2^31 floats became a negative array size and 2^32 an empty tensor.
     * Checked on the header alone (no 8 GiB file in a test).
     */
    @Test
    void aTensorOfMoreThanAnArrayHoldsIsAModelFileFault() {
        Path f = dir.resolve("huge.safetensors");
        for (long count : new long[] {1L << 31, 1L << 32, (1L << 31) - 1}) {
            String shape = count > Integer.MAX_VALUE ? (1 << 30) + "," + (count >> 30) : Long.toString(count); // dims < 2^31
            String json = "{\"t\":{\"dtype\":\"F32\",\"shape\":[" + shape + "],\"data_offsets\":[0," + 4 * count + "]}}";
            byte[] header = json.getBytes(StandardCharsets.UTF_8);
            long dataLen = 4 * count;
            ModelFileException e = assertThrows(ModelFileException.class, () -> SafeTensors.parseHeader(f, header, dataLen), json);
            assertTrue(e.getMessage().contains("tensor 't'") && e.getMessage().contains("more values than"), e.getMessage());
        }
    }
}
