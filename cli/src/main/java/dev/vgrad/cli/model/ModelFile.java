package dev.vgrad.cli.model;

import dev.vgrad.compile.Plan;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphException;
import dev.vgrad.graph.GraphText;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model on disk: its parameters as F32 safetensors (see {@link SafeTensors}) and, in the
 * header's {@code __metadata__}, the graph ({@link GraphText} under {@value #GRAPH}) and any training
 * settings, so {@code eval}, {@code predict} and a server rebuild the network from the file alone.
 * Parameter tensors keep the engine's names and shapes: a dense layer {@code fc1} has {@code fc1.W}
 * (in, out) and {@code fc1.b} (1, out), row-major.
 *
 * <pre>{@code
 * ModelFile.save(Path.of("model.safetensors"), trainer, Map.of("vgrad.dataset", "digits"));
 * ModelFile m = ModelFile.load(Path.of("model.safetensors"));   // validated; ModelFileException if not
 * Trainer t = m.trainer(1);                                     // rebuilt at batch 1 with the weights
 * Graph g = m.graph(64);                                        // or: the graph at another batch,
 * float[] params = m.params(Compiler.compile(g, CompileOptions.inference()));  // in that plan's layout
 * }</pre>
 *
 * @param graph    the graph as saved (at the batch it was trained with)
 * @param tensors  parameter values by name, in file order; each matches the graph's parameter shape
 * @param metadata the header's {@code __metadata__}, the graph text included
 */
public record ModelFile(Graph graph, Map<String, float[]> tensors, Map<String, String> metadata) {

    /** Metadata key of the graph text. */
    public static final String GRAPH = "vgrad.graph";
    /** The most floats of batched values (inputs, activations) a saved graph may need at its batch: 2^28 (1 GiB). */
    public static final long MAX_ACTIVATIONS = 1L << 28;
    /** Metadata key of the format version. */
    public static final String VERSION = "vgrad.version";

    public ModelFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    // ---- saving ----

    /** Saves the trainer's graph and current parameters with {@code metadata} (string pairs), atomically. */
    public static void save(Path file, Trainer trainer, Map<String, String> metadata) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Slot s : trainer.plan().params()) values.put(s.name(), trainer.param(s.name()));
        save(file, trainer.plan().graph(), values, metadata);
    }

    /** Saves {@code graph} with a value for each of its parameters (by name, row-major) and {@code metadata}, atomically. */
    public static void save(Path file, Graph graph, Map<String, float[]> params, Map<String, String> metadata) {
        save(file, graph, params, metadata, List.of());
    }

    /** As {@link #save(Path, Graph, Map, Map)} with extra tensors after the parameters (e.g. optimizer state in a checkpoint). */
    public static void save(Path file, Graph graph, Map<String, float[]> params, Map<String, String> metadata, List<SafeTensors.Tensor> extra) {
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        for (Node p : graph.params()) {
            float[] v = params.get(p.name());
            if (v == null) throw new IllegalArgumentException("no value for parameter '" + p.name() + "' " + p.shape());
            tensors.add(new SafeTensors.Tensor(p.name(), new int[] {p.shape().rows(), p.shape().cols()}, v));
        }
        tensors.addAll(extra);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(VERSION, "1");
        meta.putAll(metadata);
        meta.put(GRAPH, GraphText.encode(graph));
        SafeTensors.write(file, tensors, meta);
    }

    // ---- loading ----

    /**
     * Reads and validates a model file: the safetensors header (before any tensor), the graph text, a tensor
     * of the right shape for every parameter and no other tensor, finite values. Any fault: {@link ModelFileException}
     * naming the file (and the tensor and element of a non-finite value).
     */
    public static ModelFile load(Path file) { return from(file, SafeTensors.read(file), false); }

    /** As {@link #load} but tolerating tensors that are not parameters (a checkpoint's optimizer state; also checked finite); they are returned too. */
    public static ModelFile loadWithExtras(Path file) { return from(file, SafeTensors.read(file), true); }

    private static ModelFile from(Path file, SafeTensors.Contents c, boolean extras) {
        String text = c.metadata().get(GRAPH);
        if (text == null) throw new ModelFileException(file, "header: __metadata__ has no '" + GRAPH + "' (not a vgrad model file)");
        Graph graph;
        try {
            graph = GraphText.decode(text);
        } catch (GraphException e) {
            throw new ModelFileException(file, "header: __metadata__ '" + GRAPH + "': " + e.getMessage());
        }
        // the activations a compiled plan of this graph holds: bounded, so a lying batch cannot make a loader allocate gigabytes
        long floats = 0;
        int batch = 0;
        for (Node n : graph.nodes()) {
            if (n.shape().batched()) {
                floats += (long) n.shape().rows() * n.shape().cols();
                batch = n.shape().rows();
            }
        }
        if (floats > MAX_ACTIVATIONS) {
            throw new ModelFileException(file, "header: __metadata__ '" + GRAPH + "': the graph's batched values need " + floats
                    + " floats at batch " + batch + ", more than " + MAX_ACTIVATIONS);
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Node p : graph.params()) {
            SafeTensors.Tensor t = c.tensors().get(p.name());
            if (t == null) throw new ModelFileException(file, "no tensor for parameter '" + p.name() + "' " + p.shape() + " of the graph");
            int[] s = t.shape();
            if (s.length != 2 || s[0] != p.shape().rows() || s[1] != p.shape().cols()) {
                throw new ModelFileException(file, "tensor '" + p.name() + "' has shape " + java.util.Arrays.toString(s)
                        + " but the graph's parameter is " + p.shape());
            }
            requireFinite(file, t);
        }
        for (SafeTensors.Tensor t : c.tensors().values()) {
            boolean isParam = graph.has(t.name()) && graph.node(t.name()).op() == dev.vgrad.graph.Op.PARAM;
            if (!isParam && !extras) throw new ModelFileException(file, "tensor '" + t.name() + "' is not a parameter of the graph");
            // extras too: a NaN in a checkpoint's optimizer state (momentum, Adam's moments) would poison every later update
            if (!isParam) requireFinite(file, t);
            values.put(t.name(), t.data());
        }
        return new ModelFile(graph, values, c.metadata());
    }

    private static void requireFinite(Path file, SafeTensors.Tensor t) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) throw new ModelFileException(file, "tensor '" + t.name() + "' has a non-finite value " + d[i] + " at element " + i);
        }
    }

    // ---- using ----

    /** The saved graph rebuilt with another batch (e.g. 1 to serve one row at a time). */
    public Graph graph(int batch) { return GraphText.decode(metadata.get(GRAPH), batch); }

    /** A metadata value, or {@code fallback} when absent. */
    public String meta(String key, String fallback) { return metadata.getOrDefault(key, fallback); }

    /** The parameters laid out as {@code plan}'s PARAMS array (for an {@code Executor} or a {@code Predictor}). */
    public float[] params(Plan plan) {
        float[] out = new float[plan.paramsSize()];
        for (Slot s : plan.params()) {
            float[] v = tensors.get(s.name());
            if (v == null || v.length != s.size()) {
                throw new IllegalArgumentException("the model has no parameter '" + s.name() + "' " + s.shape() + " for this plan");
            }
            System.arraycopy(v, 0, out, s.offset(), s.size());
        }
        return out;
    }

    /**
     * Copies every parameter into {@code trainer} (its graph must have the same parameter names and shapes). All are
     * checked (present, sized, finite) before the first is copied: a refused copy leaves the trainer as it was.
     */
    public void copyInto(Trainer trainer) {
        for (Slot s : trainer.plan().params()) {
            float[] v = tensors.get(s.name());
            if (v == null) throw new IllegalArgumentException("the model has no parameter '" + s.name() + "' " + s.shape());
            if (v.length != s.size()) {
                throw new IllegalArgumentException("the model's parameter '" + s.name() + "' holds " + v.length + " floats, the trainer's " + s.shape()
                        + " needs " + s.size());
            }
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new IllegalArgumentException("the model's parameter '" + s.name() + "' has a non-finite value " + v[i] + " at element " + i);
                }
            }
        }
        for (Slot s : trainer.plan().params()) trainer.setParam(s.name(), tensors.get(s.name()));
    }

    /** A trainer for the saved graph at {@code batch} holding the saved weights (for evaluation and prediction). */
    public Trainer trainer(int batch) {
        Trainer t = new Trainer(graph(batch), new Optimizer.Sgd(1e-3f), 0);
        copyInto(t);
        return t;
    }
}
