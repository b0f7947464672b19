package dev.vgrad.props.cli;

import static dev.vgrad.props.check.Property.forAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.GraphText;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.props.check.Gen;
import dev.vgrad.props.check.Source;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Any graph the builder makes survives GraphText and a model file: same nodes, names, shapes, ops, and the weights bit for bit. */
class GraphRoundTripProperties {

    @TempDir
    static Path dir;

    /** A random graph and the seed of its weights; shown as the graph's description when it fails. */
    record Case(Graph graph, long weightSeed) {
        @Override
        public String toString() { return "weights seed " + weightSeed + "\n" + graph.describe(); }
    }

    static Gen<Case> cases() { return s -> new Case(randomGraph(s), s.seed()); }

    @Test
    @DisplayName("a random graph and its weights survive GraphText and a model file")
    void aRandomGraphAndItsWeightsSurviveAModelFile() {
        // 40% of the default tries: 200 graphs at the default 500
        forAll(40, cases(), c -> {
            Graph g = c.graph();
            String text = GraphText.encode(g);
            Graph back = GraphText.decode(text);
            assertEquals(g.describe(), back.describe());
            assertEquals(text, GraphText.encode(back));
            assertEquals(g.output().name(), back.output().name());

            Random r = new Random(c.weightSeed());
            Map<String, float[]> params = new LinkedHashMap<>();
            for (Node p : g.params()) {
                float[] v = new float[p.shape().size()];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                params.put(p.name(), v);
            }
            Path f = dir.resolve("roundtrip.safetensors");
            String seed = Long.toString(c.weightSeed());
            ModelFile.save(f, g, params, Map.of("seed", seed));
            ModelFile m = ModelFile.load(f);
            assertEquals(g.describe(), m.graph().describe());
            assertEquals(params.keySet(), m.tensors().keySet());
            for (var e : params.entrySet()) assertArrayEquals(e.getValue(), m.tensors().get(e.getKey()), e.getKey());
            assertEquals(seed, m.meta("seed", null));
        });
    }

    /**
     * An input, then 1..8 random layers (dense, shared-weight dense, activations, softmax, add, mul), a loss and
     * maybe another output. Every choice is drawn from the source, so a failing graph shrinks to fewer, narrower layers.
     */
    static Graph randomGraph(Source s) {
        GraphBuilder b = Graph.builder().defaultInit(Init.values()[s.between(0, 3)]);
        int batch = s.between(1, 5);
        List<Node> values = new ArrayList<>();
        values.add(b.input(s.bool() ? "input %1" : "x", batch, s.between(1, 17), s.bool()));
        int layers = s.between(1, 8);
        for (int i = 0; i < layers; i++) {
            Node x = values.get(s.between(0, values.size() - 1));
            Node y = switch (s.between(0, 5)) {
                case 0 -> b.dense("dense " + i, x, s.between(1, 17), s.oneOf(Init.values()));
                case 1 -> {
                    int units = s.between(1, 9);
                    Node w = b.param("shared" + i + ".W", x.shape().cols(), units, Init.GLOROT_UNIFORM);
                    Node bias = b.param("shared" + i + ".b", 1, units, Init.ZEROS);
                    yield b.dense("shared" + i, x, w, bias);
                }
                case 2 -> {
                    Activation a = s.oneOf(Activation.values());
                    yield b.activation(a, x, a == Activation.LEAKY_RELU ? (float) s.uniform(0, 0.5) : 0f);
                }
                case 3 -> b.softmax(x);
                default -> {
                    Node other = null;
                    for (Node v : values) if (v != x && v.shape().equals(x.shape())) other = v;
                    if (other == null) other = x; // a fan-out onto itself: x + x
                    yield s.bool() ? b.add(x, other) : b.mul(x, other);
                }
            };
            values.add(y);
        }
        Node last = values.get(values.size() - 1);
        switch (s.between(0, 2)) {
            case 0 -> b.softmaxCrossEntropy(last);
            case 1 -> b.mse(last);
            default -> b.binaryCrossEntropyWithLogits(last);
        }
        if (s.bool()) b.output(values.get(s.between(0, values.size() - 1)));
        return b.build();
    }
}
