package dev.vgrad.spark;

import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Where distributed training is: the model, the optimizer with its state (momentum or Adam's moments
 * and step count), the global step, and what fixes the data order (seed, batch, dataset rows).
 * Resuming from it continues exactly as if training had not stopped.
 *
 * <p>Placeholder file format until the CLI's safetensors model file lands: the 8 bytes
 * {@code VGRADCK1}; a 4-byte big-endian length and that many bytes of UTF-8 {@code key=value} lines;
 * the tensors {@code params}, {@code state1}, {@code state2} as little-endian float32, their lengths
 * given in the header; an 8-byte big-endian CRC32 of everything before it. Written to a temporary file
 * in the same folder and renamed over the target; read fully and validated (magic, sizes, CRC) before
 * anything is used.
 */
public record Checkpoint(ModelSpec spec, Optimizer optimizer, int batch, long seed, long rows, long step, long updates,
                         float[] params, float[] state1, float[] state2) {
    static final byte[] MAGIC = "VGRADCK1".getBytes(StandardCharsets.US_ASCII);

    static Checkpoint of(DataParallelTrainer t) {
        Trainer d = t.model();
        float[][] st = d.optimizerState();
        return new Checkpoint(t.spec(), d.optimizer(), t.batch(), t.seed(), t.rows(), t.steps(), d.updates(), d.params().clone(),
                st[0].clone(), st[1].clone());
    }

    /** Copies parameters, optimizer state and step count into {@code t} (same model). */
    void restore(Trainer t) {
        float[][] st = t.optimizerState();
        if (t.params().length != params.length) {
            throw new IllegalArgumentException("checkpoint holds " + params.length + " parameters, model " + spec.text() + " has " + t.params().length);
        }
        System.arraycopy(params, 0, t.params(), 0, params.length);
        System.arraycopy(state1, 0, st[0], 0, state1.length);
        System.arraycopy(state2, 0, st[1], 0, state2.length);
        t.setUpdates(updates);
    }

    /** Writes atomically: a failed write leaves any previous checkpoint at {@code file} intact. */
    public void write(Path file) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("model", spec.text());
        h.put("optimizer", Optimizers.text(optimizer));
        h.put("batch", Integer.toString(batch));
        h.put("seed", Long.toString(seed));
        h.put("rows", Long.toString(rows));
        h.put("step", Long.toString(step));
        h.put("updates", Long.toString(updates));
        h.put("params", Integer.toString(params.length));
        h.put("state1", Integer.toString(state1.length));
        h.put("state2", Integer.toString(state2.length));
        StringBuilder sb = new StringBuilder();
        h.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        byte[] header = sb.toString().getBytes(StandardCharsets.UTF_8);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(header.length + 4 * (params.length + state1.length + state2.length) + 32);
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeInt(header.length);
            out.write(header);
            for (float[] a : new float[][] {params, state1, state2}) {
                ByteBuffer b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(a);
                out.write(b.array());
            }
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
            out.flush();
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    ByteBuffer all = ByteBuffer.wrap(bytes.toByteArray());
                    while (all.hasRemaining()) ch.write(all);
                    ch.force(true);
                }
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint " + file + ": write failed: " + e.getMessage(), e);
        }
    }

    /** Reads and validates a checkpoint; any fault is an IllegalArgumentException naming the file and the offset. */
    public static Checkpoint read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoint " + file + ": cannot read: " + e.getMessage(), e);
        }
        int min = MAGIC.length + 4 + 8;
        if (all.length < min) throw bad(file, 0, "only " + all.length + " bytes, a checkpoint has at least " + min);
        for (int i = 0; i < MAGIC.length; i++) if (all[i] != MAGIC[i]) throw bad(file, i, "not a vgrad checkpoint (magic VGRADCK1 expected)");
        ByteBuffer b = ByteBuffer.wrap(all);
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        if (crc.getValue() != b.getLong(all.length - 8)) throw bad(file, all.length - 8, "CRC32 mismatch: the file is corrupt or truncated");
        int hlen = b.getInt(MAGIC.length);
        int hoff = MAGIC.length + 4;
        if (hlen < 0 || hlen > all.length - hoff - 8) throw bad(file, MAGIC.length, "header length " + hlen + " runs past the end");
        Map<String, String> h = new LinkedHashMap<>();
        for (String line : new String(all, hoff, hlen, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0) throw bad(file, hoff, "header line '" + line + "' is not key=value");
            h.put(line.substring(0, eq), line.substring(eq + 1));
        }
        try {
            ModelSpec spec = ModelSpec.parse(need(h, "model", file));
            Optimizer opt = Optimizers.parse(need(h, "optimizer", file));
            int np = Integer.parseInt(need(h, "params", file)), n1 = Integer.parseInt(need(h, "state1", file)),
                    n2 = Integer.parseInt(need(h, "state2", file));
            long data = hoff + hlen;
            long expect = data + 4L * np + 4L * n1 + 4L * n2 + 8;
            if (np < 0 || n1 < 0 || n2 < 0 || expect != all.length) {
                throw bad(file, data, "tensor lengths " + np + "+" + n1 + "+" + n2 + " floats need " + expect + " bytes, the file has " + all.length);
            }
            if (n1 != np || n2 != np) throw bad(file, hoff, "optimizer state lengths " + n1 + ", " + n2 + " differ from the " + np + " parameters");
            ByteBuffer le = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            float[] p = floats(le, (int) data, np), s1 = floats(le, (int) data + 4 * np, n1), s2 = floats(le, (int) data + 4 * (np + n1), n2);
            int planned = spec.graph(1).params().stream().mapToInt(n -> n.shape().rows() * n.shape().cols()).sum();
            if (planned != np) throw bad(file, data, "model " + spec.text() + " has " + planned + " parameters, the file " + np);
            return new Checkpoint(spec, opt, Integer.parseInt(need(h, "batch", file)), Long.parseLong(need(h, "seed", file)),
                    Long.parseLong(need(h, "rows", file)), Long.parseLong(need(h, "step", file)), Long.parseLong(need(h, "updates", file)),
                    p, s1, s2);
        } catch (NumberFormatException e) {
            throw bad(file, hoff, "header value is not a number: " + e.getMessage());
        }
    }

    private static float[] floats(ByteBuffer le, int off, int n) {
        float[] f = new float[n];
        le.slice(off, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    private static String need(Map<String, String> h, String key, Path file) {
        String v = h.get(key);
        if (v == null) throw bad(file, MAGIC.length + 4, "header has no '" + key + "'");
        return v;
    }

    private static IllegalArgumentException bad(Path file, long offset, String what) {
        return new IllegalArgumentException("checkpoint " + file + " at offset " + offset + ": " + what);
    }
}
