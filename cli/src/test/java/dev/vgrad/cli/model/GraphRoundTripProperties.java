package dev.vgrad.cli.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.GraphText;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Any graph the builder makes survives GraphText and a model file: same nodes, names, shapes, ops, and the weights bit for bit. */
class GraphRoundTripProperties {

    @Property(tries = 200)
    void aRandomGraphAndItsWeightsSurviveAModelFile(@ForAll long seed) throws Exception {
        Graph g = randomGraph(new Random(seed));
        String text = GraphText.encode(g);
        Graph back = GraphText.decode(text);
        assertEquals(g.describe(), back.describe());
        assertEquals(text, GraphText.encode(back));
        assertEquals(g.output().name(), back.output().name());

        Random r = new Random(~seed);
        Map<String, float[]> params = new LinkedHashMap<>();
        for (Node p : g.params()) {
            float[] v = new float[p.shape().size()];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            params.put(p.name(), v);
        }
        Path f = Files.createTempFile("vgrad-roundtrip", ".safetensors");
        try {
            ModelFile.save(f, g, params, Map.of("seed", Long.toString(seed)));
            ModelFile m = ModelFile.load(f);
            assertEquals(g.describe(), m.graph().describe());
            assertEquals(params.keySet(), m.tensors().keySet());
            for (var e : params.entrySet()) assertArrayEquals(e.getValue(), m.tensors().get(e.getKey()), e.getKey());
            assertEquals(Long.toString(seed), m.meta("seed", null));
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** An input, then 1..8 random layers (dense, shared-weight dense, activations, softmax, add, mul), a loss and maybe another output. */
    static Graph randomGraph(Random r) {
        GraphBuilder b = Graph.builder().defaultInit(Init.values()[r.nextInt(4)]);
        int batch = 1 + r.nextInt(5);
        List<Node> values = new ArrayList<>();
        values.add(b.input(r.nextBoolean() ? "x" : "input %1", batch, 1 + r.nextInt(17), r.nextBoolean()));
        int layers = 1 + r.nextInt(8);
        for (int i = 0; i < layers; i++) {
            Node x = values.get(r.nextInt(values.size()));
            Node y = switch (r.nextInt(6)) {
                case 0 -> b.dense("dense " + i, x, 1 + r.nextInt(17), Init.values()[r.nextInt(Init.values().length)]);
                case 1 -> {
                    int units = 1 + r.nextInt(9);
                    Node w = b.param("shared" + i + ".W", x.shape().cols(), units, Init.GLOROT_UNIFORM);
                    Node bias = b.param("shared" + i + ".b", 1, units, Init.ZEROS);
                    yield b.dense("shared" + i, x, w, bias);
                }
                case 2 -> {
                    Activation a = Activation.values()[r.nextInt(Activation.values().length)];
                    yield b.activation(a, x, a == Activation.LEAKY_RELU ? r.nextFloat() * 0.5f : 0f);
                }
                case 3 -> b.softmax(x);
                default -> {
                    Node other = null;
                    for (Node v : values) if (v != x && v.shape().equals(x.shape())) other = v;
                    if (other == null) other = x; // a fan-out onto itself: x + x
                    yield r.nextBoolean() ? b.add(x, other) : b.mul(x, other);
                }
            };
            values.add(y);
        }
        Node last = values.get(values.size() - 1);
        switch (r.nextInt(3)) {
            case 0 -> b.softmaxCrossEntropy(last);
            case 1 -> b.mse(last);
            default -> b.binaryCrossEntropyWithLogits(last);
        }
        if (r.nextBoolean()) b.output(values.get(r.nextInt(values.size())));
        return b.build();
    }
}
