package dev.vgrad.cli.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors format, F32 tensors only: an 8-byte little-endian unsigned header length N, N bytes of
 * UTF-8 JSON <code>{"__metadata__": {string: string}, NAME: {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}, ...}</code> (space-padded), then the tensors' raw little-endian bytes,
 * offsets relative to the start of that data section, covering it with no gap and no overlap.
 *
 * <p>{@link #write} is atomic: it writes a temporary file in the target's folder and renames it over the
 * target, so a failed or interrupted save leaves the previous file as it was. {@link #read} checks the whole
 * header against the file's size before it reads any tensor, so a corrupt file is reported, never trusted:
 * it allocates at most the file's size, and every fault is a {@link ModelFileException}.
 */
public final class SafeTensors {
    private SafeTensors() {}

    /** The Rust reference implementation refuses headers larger than this; so do we. */
    public static final long MAX_HEADER = 100L * 1024 * 1024;
    public static final String METADATA = "__metadata__";
    /** The most floats one tensor may hold: what a Java array can. */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** dtypes the specification lists; vgrad reads and writes F32 only. */
    private static final Set<String> KNOWN_DTYPES = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
            "I32", "U32", "F32", "F64", "I64", "U64", "F4", "F6_E2M3", "F6_E3M2", "E8M0", "F8_E8M0");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    /** One F32 tensor: a name, its shape and {@code product(shape)} values in row-major order. */
    public record Tensor(String name, int[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
            }
            if (name.equals(METADATA)) throw new IllegalArgumentException("a tensor may not be named " + METADATA);
        }
    }

    /** What a file holds: tensors in file order and the string metadata. */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

    // ---- writing ----

    /** Writes the tensors (in the given order, packed) and the metadata to {@code file}, atomically. */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        byte[] header = header(tensors, metadata);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (Tensor t : tensors) {
                    for (float v : t.data()) {
                        if (!buf.hasRemaining()) {
                            writeFully(ch, buf.flip());
                            buf.clear();
                        }
                        buf.putFloat(v);
                    }
                }
                writeFully(ch, buf.flip());
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot write: " + describe(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file stays; the target is untouched either way
                }
            }
        }
    }

    /** The JSON header, space-padded so the data section starts at a multiple of 8 bytes. */
    static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            if (root.has(t.name())) throw new IllegalArgumentException("two tensors named '" + t.name() + "'");
            ObjectNode o = root.putObject(t.name());
            o.put("dtype", "F32");
            ArrayNode shape = o.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long end = offset + 4L * t.data().length;
            o.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a safetensors header", e);
        }
        int padded = (int) ((8 + json.length + 7) / 8 * 8 - 8);
        byte[] h = Arrays.copyOf(json, padded);
        Arrays.fill(h, json.length, padded, (byte) ' ');
        return h;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    // ---- reading ----

    /** Reads and validates {@code file}: the header first, against the file's size, then the tensors. */
    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new ModelFileException(file, "offset 0: file is " + size + " bytes, too short for the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(file, ch, lenBuf, 0);
            long n = lenBuf.flip().getLong();
            if (Long.compareUnsigned(n, size - 8) > 0) {
                throw new ModelFileException(file, "offset 0: header length " + Long.toUnsignedString(n) + " exceeds the " + (size - 8)
                        + " bytes after the length field (truncated or not a safetensors file)");
            }
            if (n < 2) throw new ModelFileException(file, "offset 0: header length " + n + " is too short for a JSON object");
            if (n > MAX_HEADER) throw new ModelFileException(file, "offset 0: header length " + n + " exceeds the " + MAX_HEADER + "-byte limit");
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(file, ch, headerBuf, 8);
            long dataStart = 8 + n, dataLen = size - dataStart;
            Layout layout = parseHeader(file, headerBuf.array(), dataLen);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Entry e : layout.entries) tensors.put(e.name, new Tensor(e.name, e.shape, readFloats(file, ch, dataStart + e.begin, e.count)));
            return new Contents(tensors, layout.metadata);
        } catch (NoSuchFileException e) {
            throw new ModelFileException(file, "no such file");
        } catch (AccessDeniedException e) {
            throw new ModelFileException(file, "cannot read: permission denied");
        } catch (IOException e) {
            throw new ModelFileException(file, "cannot read: " + describe(e), e);
        }
    }

    private record Entry(String name, int[] shape, long begin, long end, int count) {}

    private record Layout(List<Entry> entries, Map<String, String> metadata) {}

    /** Parses and checks the header: JSON, dtypes, shapes against byte ranges, ranges within and covering the data. */
    static Layout parseHeader(Path file, byte[] header, long dataLen) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFileException(file, "offset 8: header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{') throw new ModelFileException(file, "offset 8: header does not start with '{'");
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            String where = at >= 0 ? "offset " + (8 + byteOffset(text, at)) : "offset 8";
            throw new ModelFileException(file, where + ": header is not well-formed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject()) throw new ModelFileException(file, "offset 8: header is not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals(METADATA)) {
                if (!v.isObject()) throw new ModelFileException(file, "header: " + METADATA + " must be an object of strings");
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw new ModelFileException(file, "header: " + METADATA + " value '" + clip(kv.getKey()) + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(entry(file, name, v, dataLen));
        }
        // byte ranges sorted by start must tile [0, dataLen) exactly
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin != at) {
                throw new ModelFileException(file, "tensor '" + clip(e.name) + "': data_offsets [" + e.begin + ", " + e.end + "] "
                        + (e.begin < at ? "overlap the previous tensor ending at " : "leave a gap after ") + at);
            }
            at = e.end;
        }
        if (at != dataLen) {
            throw new ModelFileException(file, "data section is " + dataLen + " bytes but the tensors cover " + at
                    + (at < dataLen ? " (trailing bytes)" : ""));
        }
        return new Layout(entries, metadata);
    }

    private static Entry entry(Path file, String name, JsonNode v, long dataLen) {
        String t = "tensor '" + clip(name) + "'";
        if (!v.isObject()) throw new ModelFileException(file, "header: " + t + " is not an object");
        for (Map.Entry<String, JsonNode> kv : v.properties()) {
            String key = kv.getKey();
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new ModelFileException(file, "header: " + t + " has an unknown field '" + clip(key) + "'");
            }
        }
        JsonNode dtype = v.get("dtype"), shape = v.get("shape"), offsets = v.get("data_offsets");
        if (dtype == null || !dtype.isTextual()) throw new ModelFileException(file, "header: " + t + " has no dtype string");
        if (!dtype.textValue().equals("F32")) {
            throw new ModelFileException(file, "header: " + t + " has dtype " + clip(dtype.textValue())
                    + (KNOWN_DTYPES.contains(dtype.textValue()) ? ", vgrad reads F32 only" : ", which safetensors does not define"));
        }
        if (shape == null || !shape.isArray()) throw new ModelFileException(file, "header: " + t + " has no shape array");
        int[] dims = new int[shape.size()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = shape.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw new ModelFileException(file, "header: " + t + " shape " + clip(shape.toString()) + " has a dimension that is not an integer in [0, 2^31)");
            }
            dims[i] = d.intValue();
            count *= dims[i];
            if (count > dataLen / 4) {
                throw new ModelFileException(file, "header: " + t + " shape " + clip(shape.toString()) + " needs more bytes than the " + dataLen + "-byte data section holds");
            }
        }
        if (count > MAX_ARRAY) { // only a file over 8 GiB gets here; the count becomes an int below
            throw new ModelFileException(file, "header: " + t + " shape " + clip(shape.toString()) + " has " + count
                    + " values, more values than a Java array holds (" + MAX_ARRAY + ")");
        }
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFileException(file, "header: " + t + " needs data_offsets [begin, end]");
        }
        JsonNode b = offsets.get(0), e = offsets.get(1);
        if (!b.isIntegralNumber() || !e.isIntegralNumber() || !b.canConvertToLong() || !e.canConvertToLong()) {
            throw new ModelFileException(file, "header: " + t + " data_offsets " + clip(offsets.toString()) + " are not integers");
        }
        long begin = b.longValue(), end = e.longValue();
        if (begin < 0 || end < begin || end > dataLen) {
            throw new ModelFileException(file, "header: " + t + " data_offsets [" + begin + ", " + end + "] lie outside the " + dataLen + "-byte data section");
        }
        if (end - begin != 4 * count) {
            throw new ModelFileException(file, "header: " + t + " shape " + Arrays.toString(dims) + " of F32 needs " + 4 * count
                    + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new Entry(name, dims, begin, end, (int) count);
    }

    private static float[] readFloats(Path file, FileChannel ch, long position, int count) throws IOException {
        float[] out = new float[count];
        ByteBuffer buf = ByteBuffer.allocate(Math.min(1 << 16, 4 * count)).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < count) {
            buf.clear().limit(Math.min(buf.capacity(), 4 * (count - done)));
            readFully(file, ch, buf, position + 4L * done);
            buf.flip();
            while (buf.remaining() >= 4) out[done++] = buf.getFloat();
        }
        return out;
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) throw new ModelFileException(file, "offset " + p + ": unexpected end of file (the file changed while reading)");
            p += r;
        }
    }

    private static long byteOffset(String text, long charOffset) {
        int c = (int) Math.min(charOffset, text.length());
        return StandardCharsets.UTF_8.encode(CharBuffer.wrap(text, 0, c)).remaining();
    }

    private static String clip(String s) { return s.length() <= 60 ? s : s.substring(0, 60) + "..."; }

    private static String describe(IOException e) {
        return e.getMessage() == null ? "I/O error" : e.getMessage();
    }
}
