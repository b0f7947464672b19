package dev.vgrad.spark;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.SafeTensors;
import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphText;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where distributed training is: the model, the optimizer with its state (momentum or Adam's moments
 * and step count), the global step, and what fixes the data order (seed, batch, dataset rows).
 * Resuming from it continues exactly as if training had not stopped.
 *
 * <p>On disk it is a vgrad model file ({@link ModelFile}: safetensors, written atomically, validated
 * on load) whose parameters are the model's, so {@code vgrad eval} reads it as a model, plus two extra
 * 1-D tensors {@value #STATE1} and {@value #STATE2} (the optimizer state in the plan's parameter layout)
 * and the {@code vgrad.spark.*} metadata keys below, among them a CRC32 of parameters and state (the
 * safetensors format has no checksum of its data).
 */
public record Checkpoint(ModelSpec spec, Optimizer optimizer, int batch, long seed, long rows, long step, long updates,
                         float[] params, float[] state1, float[] state2) {
    static final String MODEL = "vgrad.spark.model", OPTIMIZER = "vgrad.spark.optimizer", BATCH = "vgrad.spark.batch",
            SEED = "vgrad.spark.seed", ROWS = "vgrad.spark.rows", STEP = "vgrad.spark.step", UPDATES = "vgrad.spark.updates",
            CRC = "vgrad.spark.crc32";
    static final String STATE1 = "optimizer.state1", STATE2 = "optimizer.state2";

    static Checkpoint of(DataParallelTrainer t) {
        Trainer d = t.model();
        float[][] st = d.optimizerState();
        return new Checkpoint(t.spec(), d.optimizer(), t.batch(), t.seed(), t.rows(), t.steps(), d.updates(), d.params().clone(),
                st[0].clone(), st[1].clone());
    }

    /** Copies parameters, optimizer state and step count into {@code t} (same model). */
    void restore(Trainer t) {
        float[][] st = t.optimizerState();
        System.arraycopy(params, 0, t.params(), 0, params.length);
        System.arraycopy(state1, 0, st[0], 0, state1.length);
        System.arraycopy(state2, 0, st[1], 0, state2.length);
        t.setUpdates(updates);
    }

    /** The settings as model-file metadata (also written into the final model by {@link VgradSpark}). */
    Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(MODEL, spec.text());
        m.put(OPTIMIZER, Optimizers.text(optimizer));
        m.put(BATCH, Integer.toString(batch));
        m.put(SEED, Long.toString(seed));
        m.put(ROWS, Long.toString(rows));
        m.put(STEP, Long.toString(step));
        m.put(UPDATES, Long.toString(updates));
        return m;
    }

    /** CRC32 of the parameters and optimizer state as little-endian float32: safetensors has no checksum of its data. */
    static long crc(float[]... arrays) {
        java.util.zip.CRC32 c = new java.util.zip.CRC32();
        for (float[] a : arrays) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * a.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(a);
            c.update(b.array());
        }
        return c.getValue();
    }

    /** Writes atomically (temporary file + rename): a failed write leaves any previous checkpoint at {@code file} intact. */
    public void write(Path file) {
        Graph graph = spec.graph(batch);
        Plan plan = Compiler.compile(graph, CompileOptions.defaults());
        Map<String, float[]> byName = new LinkedHashMap<>();
        for (Slot s : plan.params()) byName.put(s.name(), java.util.Arrays.copyOfRange(params, s.offset(), s.offset() + s.size()));
        Map<String, String> meta = metadata();
        meta.put(CRC, Long.toString(crc(params, state1, state2)));
        ModelFile.save(file, graph, byName, meta, List.of(new SafeTensors.Tensor(STATE1, new int[] {state1.length}, state1),
                new SafeTensors.Tensor(STATE2, new int[] {state2.length}, state2)));
    }

    /**
     * Reads and validates a checkpoint: the model file's own checks (header, shapes, offsets, finite values;
     * a {@code ModelFileException}), then the spark settings and that the saved graph is the model's.
     */
    public static Checkpoint read(Path file) {
        ModelFile m = ModelFile.loadWithExtras(file);
        Map<String, String> meta = m.metadata();
        try {
            ModelSpec spec = ModelSpec.parse(need(meta, MODEL, file));
            int batch = Integer.parseInt(need(meta, BATCH, file));
            Graph graph = spec.graph(batch);
            if (!GraphText.encode(graph).equals(GraphText.encode(m.graph()))) {
                throw bad(file, "the saved graph is not the graph of " + MODEL + " '" + spec.text() + "' at batch " + batch);
            }
            Plan plan = Compiler.compile(graph, CompileOptions.defaults());
            float[] params = m.params(plan);
            float[] s1 = m.tensors().get(STATE1), s2 = m.tensors().get(STATE2);
            if (s1 == null || s2 == null || s1.length != params.length || s2.length != params.length) {
                throw bad(file, "optimizer state tensors '" + STATE1 + "' and '" + STATE2 + "' must each hold " + params.length + " floats");
            }
            long crc = Long.parseLong(need(meta, CRC, file));
            if (crc(params, s1, s2) != crc) throw bad(file, "CRC32 of the parameters and optimizer state does not match " + CRC + ": the data is corrupt");
            return new Checkpoint(spec, Optimizers.parse(need(meta, OPTIMIZER, file)), batch, Long.parseLong(need(meta, SEED, file)),
                    Long.parseLong(need(meta, ROWS, file)), Long.parseLong(need(meta, STEP, file)), Long.parseLong(need(meta, UPDATES, file)),
                    params, s1.clone(), s2.clone());
        } catch (NumberFormatException e) {
            throw bad(file, "a vgrad.spark.* value is not a number: " + e.getMessage());
        }
    }

    private static String need(Map<String, String> meta, String key, Path file) {
        String v = meta.get(key);
        if (v == null) throw bad(file, "__metadata__ has no '" + key + "' (a model file, not a vgrad-spark checkpoint?)");
        return v;
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException("checkpoint " + file + ": " + what);
    }
}
