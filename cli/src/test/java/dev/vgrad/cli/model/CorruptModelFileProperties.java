package dev.vgrad.cli.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The model loader against thousands of corruptions of one valid file: each load either succeeds (a
 * corruption that leaves a valid file, e.g. a flipped bit inside a weight) or ends in a
 * {@link ModelFileException} — never another exception, a hang, or an allocation out of proportion to
 * the file's size.
 */
class CorruptModelFileProperties {
    private static Path dir;
    private static byte[] valid;
    private static int headerLength;

    @BeforeContainer
    static void writeValidFile() throws Exception {
        dir = Files.createTempDirectory("vgrad-corrupt");
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 6);
        b.softmaxCrossEntropy(b.dense("out", b.relu(b.dense("fc1", x, 5)), 3));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 3);
        Path f = dir.resolve("valid.safetensors");
        ModelFile.save(f, t, Map.of("vgrad.dataset", "corrupt-test"));
        valid = Files.readAllBytes(f);
        headerLength = (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ModelFile.load(f); // the starting point is valid
    }

    @AfterContainer
    static void cleanUp() throws Exception {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    @Property(tries = 2000)
    void everyCorruptionEndsInTheLoadersOwnError(@ForAll("corruptions") Corruption c) throws Exception {
        Path f = dir.resolve("c.safetensors");
        Files.write(f, c.bytes());
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        long start = System.nanoTime();
        try {
            ModelFile.load(f);
            Statistics.label("outcome").collect("loaded");
        } catch (ModelFileException e) {
            Statistics.label("outcome").collect("rejected");
            assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
            assertTrue(e.getMessage().lines().count() == 1, "one line: " + e.getMessage());
        } catch (Throwable e) {
            fail(c.kind() + " ended in " + e, e);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        assertTrue(seconds < 5, c.kind() + " took " + seconds + " s");
        // fixed costs (JSON parser buffers, graph objects) plus a multiple of the file: never the sizes a header claims
        long bound = 4L * 1024 * 1024 + 64L * c.bytes().length;
        assertTrue(allocated < bound, c.kind() + " allocated " + allocated + " bytes for a " + c.bytes().length + "-byte file");
    }

    /** A corrupted file and how it was made (for the failure message). */
    record Corruption(String kind, byte[] bytes) {
        @Override
        public String toString() { return kind + " (" + bytes.length + " bytes)"; }
    }

    @Provide
    Arbitrary<Corruption> corruptions() {
        return Arbitraries.oneOf(truncations(), flippedBytes(), lyingHeaderLengths(), rewrittenNumbers(), dtypes(), headerSplices());
    }

    /** The file cut anywhere. */
    Arbitrary<Corruption> truncations() {
        return Arbitraries.integers().between(0, valid.length - 1).map(n -> new Corruption("truncated to " + n, Arrays.copyOf(valid, n)));
    }

    /** One to eight bytes xor-ed with a non-zero value, anywhere (length, header or data). */
    Arbitrary<Corruption> flippedBytes() {
        Arbitrary<int[]> flip = Combinators.combine(Arbitraries.integers().between(0, valid.length - 1), Arbitraries.integers().between(1, 255))
                .as((at, x) -> new int[] {at, x});
        Arbitrary<int[]> headerFlip = Combinators.combine(Arbitraries.integers().between(0, 8 + headerLength - 1), Arbitraries.integers().between(1, 255))
                .as((at, x) -> new int[] {at, x});
        return Arbitraries.oneOf(flip, headerFlip).list().ofMinSize(1).ofMaxSize(8).map(flips -> {
            byte[] b = valid.clone();
            StringBuilder kind = new StringBuilder("flipped");
            for (int[] fl : flips) {
                b[fl[0]] ^= (byte) fl[1];
                kind.append(' ').append(fl[0]).append('^').append(fl[1]);
            }
            return new Corruption(kind.toString(), b);
        });
    }

    /** The u64 header length replaced by a lie: near the truth, huge, negative as signed, or random. */
    Arbitrary<Corruption> lyingHeaderLengths() {
        Arbitrary<Long> lie = Arbitraries.oneOf(Arbitraries.longs().between(-16, 16).map(d -> headerLength + d),
                Arbitraries.longs(), Arbitraries.of(0L, 1L, 2L, (long) valid.length, Long.MAX_VALUE, -1L, 1L << 32, 100L * 1024 * 1024 + 1));
        return lie.filter(n -> n != headerLength).map(n -> {
            byte[] b = valid.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
            return new Corruption("header length " + Long.toUnsignedString(n), b);
        });
    }

    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    /** One integer of the JSON header (a shape dimension or a data offset) replaced by a lie, the header re-framed. */
    Arbitrary<Corruption> rewrittenNumbers() {
        String header = new String(valid, 8, headerLength, StandardCharsets.UTF_8);
        List<int[]> spans = new ArrayList<>();
        Matcher m = NUMBER.matcher(header);
        while (m.find()) spans.add(new int[] {m.start(), m.end()});
        Arbitrary<Long> lie = Arbitraries.oneOf(Arbitraries.longs().between(-8, 2000), Arbitraries.longs(),
                Arbitraries.of(Integer.MAX_VALUE + 1L, (long) Integer.MAX_VALUE, 1L << 40));
        return Combinators.combine(Arbitraries.of(spans), lie).as((span, v) -> {
            String h = header.substring(0, span[0]) + v + header.substring(span[1]);
            return new Corruption("number at header char " + span[0] + " -> " + v, reframe(h.getBytes(StandardCharsets.UTF_8)));
        });
    }

    /** A tensor's dtype replaced by another safetensors dtype or by nonsense. */
    Arbitrary<Corruption> dtypes() {
        String header = new String(valid, 8, headerLength, StandardCharsets.UTF_8);
        return Arbitraries.of("F16", "BF16", "F64", "I32", "U8", "BOOL", "f32", "", "F32 ", "F3").map(d -> {
            String h = header.replaceFirst("\"F32\"", "\"" + d + "\"");
            return new Corruption("dtype " + d, reframe(h.getBytes(StandardCharsets.UTF_8)));
        });
    }

    /** Random printable or binary bytes spliced into the header, the length field kept consistent. */
    Arbitrary<Corruption> headerSplices() {
        Arbitrary<byte[]> junk = Arbitraries.oneOf(Arbitraries.strings().ofMinLength(1).ofMaxLength(6).withChars("{}[]\",:0123456789e-.tx ")
                .map(s -> s.getBytes(StandardCharsets.UTF_8)), Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(6));
        return Combinators.combine(Arbitraries.integers().between(0, headerLength), junk).as((at, j) -> {
            byte[] h = new byte[headerLength + j.length];
            System.arraycopy(valid, 8, h, 0, at);
            System.arraycopy(j, 0, h, at, j.length);
            System.arraycopy(valid, 8 + at, h, at + j.length, headerLength - at);
            return new Corruption("spliced " + j.length + " bytes at header byte " + at, reframe(h));
        });
    }

    /** A file with this header and the valid file's data section. */
    private static byte[] reframe(byte[] header) {
        int dataLen = valid.length - 8 - headerLength;
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(valid, 8 + headerLength, dataLen);
        return b.array();
    }
}
