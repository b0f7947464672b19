package dev.vgrad.props.cli;

import static dev.vgrad.props.check.Property.assume;
import static dev.vgrad.props.check.Property.forAll;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.props.check.Gen;
import dev.vgrad.props.check.Source;
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
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model loader against thousands of corruptions of one valid file: each load either succeeds (a
 * corruption that leaves a valid file, e.g. a flipped bit inside a weight) or ends in a
 * {@link ModelFileException}: never another exception, a hang, or an allocation out of proportion to
 * the file's size.
 */
class CorruptModelFileProperties {
    /** A load that takes longer than this (on a file of a few hundred bytes) counts as a hang. */
    static final long HANG_SECONDS = 5;

    @TempDir
    static Path dir;
    private static byte[] valid;
    private static int headerLength;
    /** Loads run here, so that a hang fails the property after HANG_SECONDS instead of stalling the build. */
    private static ExecutorService loader;

    @BeforeAll
    static void writeValidFile() throws Exception {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 6);
        b.softmaxCrossEntropy(b.dense("out", b.relu(b.dense("fc1", x, 5)), 3));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 3);
        Path f = dir.resolve("valid.safetensors");
        ModelFile.save(f, t, Map.of("vgrad.dataset", "corrupt-test"));
        valid = Files.readAllBytes(f);
        headerLength = (int) ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ModelFile.load(f); // the starting point is valid
        loader = newLoader();
    }

    @AfterAll
    static void stopLoader() { loader.shutdownNow(); }

    private static ExecutorService newLoader() {
        return Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("corrupt-model-loader").factory());
    }

    /** How a load ended, and the bytes the loading thread allocated. */
    record Outcome(Throwable thrown, long allocated) {}

    /** Loads f on the loader thread, measuring that thread's allocation; fails when it does not return in time. */
    private static Outcome load(Path f, Corruption c) {
        Future<Outcome> done = loader.submit(() -> {
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long before = threads.getCurrentThreadAllocatedBytes();
            Throwable thrown = null;
            try {
                ModelFile.load(f);
            } catch (Throwable e) {
                thrown = e;
            }
            return new Outcome(thrown, threads.getCurrentThreadAllocatedBytes() - before);
        });
        try {
            return done.get(HANG_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            done.cancel(true);
            loader.shutdownNow();
            loader = newLoader(); // the stuck thread is a daemon: it cannot keep the test JVM alive
            throw new AssertionError(c.kind() + " hung: the load had not returned after " + HANG_SECONDS + " s");
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(c.kind() + ": " + e, e);
        }
    }

    @Test
    @DisplayName("every corruption of a valid model file loads or ends in a one-line ModelFileException, in bounded time and memory")
    void everyCorruptionEndsInTheLoadersOwnError() {
        Map<String, int[]> outcomes = new TreeMap<>(); // family -> {loaded, rejected}
        // 4x the default tries: 2,000 corruptions at the default 500 (a load takes microseconds)
        forAll(400, corruptions(), c -> {
            Path f = dir.resolve("c.safetensors");
            try {
                Files.write(f, c.bytes());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Outcome o = load(f, c); // fails the case when the load hangs
            int[] counts = outcomes.computeIfAbsent(c.family(), k -> new int[2]);
            if (o.thrown() == null) {
                counts[0]++;
            } else if (o.thrown() instanceof ModelFileException e) {
                counts[1]++;
                assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
                assertTrue(e.getMessage().lines().count() == 1, "one line: " + e.getMessage());
            } else {
                fail(c.kind() + " ended in " + o.thrown(), o.thrown());
            }
            // fixed costs (JSON parser buffers, graph objects) plus a multiple of the file: never the sizes a header claims
            long bound = 4L * 1024 * 1024 + 64L * c.bytes().length;
            assertTrue(o.allocated() < bound, c.kind() + " allocated " + o.allocated() + " bytes for a " + c.bytes().length + "-byte file");
        });
        StringBuilder summary = new StringBuilder("corrupt model files (loaded / rejected):");
        outcomes.forEach((family, n) -> summary.append(' ').append(family).append(' ').append(n[0]).append('/').append(n[1]).append(';'));
        System.out.println(summary);
    }

    /** A corrupted file and how it was made (for the failure message). */
    record Corruption(String family, String kind, byte[] bytes) {
        @Override
        public String toString() { return kind + " (" + bytes.length + " bytes)"; }
    }

    /** One of the six families, each equally likely; shrinks towards a truncation. */
    static Gen<Corruption> corruptions() {
        List<Gen<Corruption>> families = List.of(truncations(), flippedBytes(), lyingHeaderLengths(), rewrittenNumbers(), dtypes(), headerSplices());
        return s -> families.get(s.between(0, families.size() - 1)).draw(s);
    }

    /** An int in [lo, hi], one time in eight one of its edges (lo, lo + 1, hi - 1, hi); shrinks towards lo. */
    static int edgy(Source s, int lo, int hi) {
        if (s.between(0, 7) == 7) return Math.clamp(s.oneOf((long) lo, lo + 1L, hi - 1L, (long) hi), lo, hi);
        return s.between(lo, hi);
    }

    /** Any long, one time in eight one of the edges of long and int; shrinks towards 0. */
    static long anyLong(Source s) {
        if (s.between(0, 7) == 7) return s.oneOf(0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE);
        long v = s.choice(Long.MAX_VALUE);
        return s.bool() ? -1 - v : v;
    }

    /** The file cut anywhere. */
    static Gen<Corruption> truncations() {
        return s -> {
            int n = edgy(s, 0, valid.length - 1);
            return new Corruption("truncated", "truncated to " + n, Arrays.copyOf(valid, n));
        };
    }

    /** One to eight bytes xor-ed with a non-zero value, anywhere (length, header or data) or in the length and header. */
    static Gen<Corruption> flippedBytes() {
        return s -> {
            int flips = s.between(1, 8);
            byte[] b = valid.clone();
            StringBuilder kind = new StringBuilder("flipped");
            for (int i = 0; i < flips; i++) {
                int at = s.bool() ? edgy(s, 0, 8 + headerLength - 1) : edgy(s, 0, valid.length - 1);
                int x = edgy(s, 1, 255);
                b[at] ^= (byte) x;
                kind.append(' ').append(at).append('^').append(x);
            }
            return new Corruption("flipped", kind.toString(), b);
        };
    }

    /** The u64 header length replaced by a lie: near the truth, huge, negative as signed, or random. */
    static Gen<Corruption> lyingHeaderLengths() {
        return s -> {
            long n = switch (s.between(0, 2)) {
                case 0 -> headerLength + s.between(-16, 16);
                case 1 -> anyLong(s);
                default -> s.oneOf(0L, 1L, 2L, (long) valid.length, Long.MAX_VALUE, -1L, 1L << 32, 100L * 1024 * 1024 + 1);
            };
            assume(n != headerLength);
            byte[] b = valid.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
            return new Corruption("header length", "header length " + Long.toUnsignedString(n), b);
        };
    }

    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    /** One integer of the JSON header (a shape dimension or a data offset) replaced by a lie, the header re-framed. */
    static Gen<Corruption> rewrittenNumbers() {
        String header = new String(valid, 8, headerLength, StandardCharsets.UTF_8);
        List<int[]> spans = new ArrayList<>();
        Matcher m = NUMBER.matcher(header);
        while (m.find()) spans.add(new int[] {m.start(), m.end()});
        return s -> {
            int[] span = spans.get(s.between(0, spans.size() - 1));
            long v = switch (s.between(0, 2)) {
                case 0 -> s.between(-8, 2000);
                case 1 -> anyLong(s);
                default -> s.oneOf(Integer.MAX_VALUE + 1L, (long) Integer.MAX_VALUE, 1L << 40);
            };
            String h = header.substring(0, span[0]) + v + header.substring(span[1]);
            return new Corruption("number", "number at header char " + span[0] + " -> " + v, reframe(h.getBytes(StandardCharsets.UTF_8)));
        };
    }

    /** A tensor's dtype replaced by another safetensors dtype or by nonsense. */
    static Gen<Corruption> dtypes() {
        String header = new String(valid, 8, headerLength, StandardCharsets.UTF_8);
        return s -> {
            String d = s.oneOf("F16", "BF16", "F64", "I32", "U8", "BOOL", "f32", "", "F32 ", "F3");
            String h = header.replaceFirst("\"F32\"", "\"" + d + "\"");
            return new Corruption("dtype", "dtype " + d, reframe(h.getBytes(StandardCharsets.UTF_8)));
        };
    }

    private static final String JSON_CHARS = "{}[]\",:0123456789e-.tx ";

    /** Random JSON-ish or binary bytes (1 to 6) spliced into the header, the length field kept consistent. */
    static Gen<Corruption> headerSplices() {
        return s -> {
            int at = edgy(s, 0, headerLength);
            boolean text = !s.bool();
            byte[] j = new byte[s.between(1, 6)];
            for (int i = 0; i < j.length; i++) j[i] = text ? (byte) JSON_CHARS.charAt(s.between(0, JSON_CHARS.length() - 1)) : (byte) s.between(-128, 127);
            byte[] h = new byte[headerLength + j.length];
            System.arraycopy(valid, 8, h, 0, at);
            System.arraycopy(j, 0, h, at, j.length);
            System.arraycopy(valid, 8 + at, h, at + j.length, headerLength - at);
            return new Corruption("spliced", "spliced " + (text ? "text " : "bytes ") + Arrays.toString(j) + " at header byte " + at, reframe(h));
        };
    }

    /** A file with this header and the valid file's data section. */
    private static byte[] reframe(byte[] header) {
        int dataLen = valid.length - 8 - headerLength;
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header).put(valid, 8 + headerLength, dataLen);
        return b.array();
    }
}
