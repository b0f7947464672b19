package dev.vgrad.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GraphTextTest {

    /** Every op, a fan-out, a shared layer name with a space, a leaky alpha and an explicit output. */
    static Graph everything() {
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_NORMAL);
        Node x = b.input("x in", 17, 5, true);
        Node h = b.leakyRelu(b.dense("fc 1", x, 16), 0.1f);
        Node g = b.gelu(b.dense("fc2", h, 16, Init.GLOROT_NORMAL));
        Node s = b.add(h, g);                                   // fan-out of h
        Node m = b.mul(b.sigmoid(s), b.tanh(s));
        Node w = b.param("shared.W", 16, 3, Init.GLOROT_UNIFORM);
        Node bias = b.param("shared.b", 1, 3, Init.ZEROS);
        Node logits = b.dense("out", b.relu(m), w, bias);
        b.softmax(logits);
        b.softmaxCrossEntropy(logits);
        b.output(logits);
        return b.build();
    }

    @Test
    void roundTripKeepsEveryNode() {
        Graph g = everything();
        String text = GraphText.encode(g);
        Graph r = GraphText.decode(text);
        assertEquals(g.describe(), r.describe());
        assertEquals(text, GraphText.encode(r));
        assertEquals(g.nodes().size(), r.nodes().size());
        for (int i = 0; i < g.nodes().size(); i++) {
            Node a = g.nodes().get(i), c = r.nodes().get(i);
            assertEquals(a.name(), c.name());
            assertEquals(a.op(), c.op());
            assertEquals(a.shape(), c.shape());
            assertEquals(a.activation(), c.activation());
            assertEquals(a.alpha(), c.alpha());
            assertEquals(a.init(), c.init());
            assertEquals(a.layer(), c.layer());
            assertEquals(a.requiresGrad(), c.requiresGrad());
        }
        assertEquals(g.output().name(), r.output().name());
        assertEquals(g.loss().name(), r.loss().name());
    }

    @Test
    void handWrittenTextBuildsTheMlp() {
        String text = """
                vgrad-graph 1
                input x 4 3 nograd
                param fc.W 3 2 he-uniform fc
                param fc.b 1 2 zeros fc
                dense fc x fc.W fc.b
                activation r relu 0.0 fc
                labels y 4
                loss softmax-cross-entropy L r y
                output r
                """;
        Graph g = GraphText.decode(text);
        assertEquals(7, g.nodes().size());
        assertEquals(new Shape(4, 2, true), g.node("r").shape());
        assertEquals(Op.SOFTMAX_CROSS_ENTROPY, g.loss().op());
        assertEquals("fc", g.node("fc.W").layer());
        assertEquals("fc", g.node("r").layer());
    }

    @Test
    void batchOverrideChangesOnlyBatchedLeaves() {
        Graph r = GraphText.decode(GraphText.encode(everything()), 1);
        assertEquals(new Shape(1, 5, true), r.node("x in").shape());
        assertEquals(new Shape(16, 3, false), r.node("shared.W").shape());
        assertEquals(1, r.output().shape().rows());
    }

    @Test
    void badTextNamesTheLine() {
        String good = GraphText.encode(everything());
        String[] lines = good.split("\n");
        assertTrue(assertThrows(GraphException.class, () -> GraphText.decode("nope\n")).getMessage().contains("line 1"));
        String cut = String.join("\n", java.util.Arrays.copyOf(lines, 5));
        assertTrue(assertThrows(GraphException.class, () -> GraphText.decode(cut)).getMessage().contains("no 'output' line"));
        String badDim = good.replace("param fc2.W 16 16", "param fc2.W 16 x");
        assertTrue(assertThrows(GraphException.class, () -> GraphText.decode(badDim)).getMessage().startsWith("graph text line "));
        String mismatch = good.replace("param fc2.W 16 16", "param fc2.W 15 16");
        String msg = assertThrows(GraphException.class, () -> GraphText.decode(mismatch)).getMessage();
        assertTrue(msg.contains("does not match weight 'fc2.W'"), msg);
        String unknown = good.replace("dense out", "dense2 out");
        assertTrue(assertThrows(GraphException.class, () -> GraphText.decode(unknown)).getMessage().contains("unknown node kind 'dense2'"));
        String huge = good.replace("param fc2.W 16 16", "param fc2.W 65536 65536");
        assertTrue(assertThrows(GraphException.class, () -> GraphText.decode(huge)).getMessage().contains("2^31-1"));
    }

    /** Hostile text: every leaf fits in 2^31-1 floats but the dense of a (65536, 1) input and a (1, 65536) weight would not. */
    @Test
    void denseWhoseShapeOverflowsIsRejected() {
        String text = String.join("\n", GraphText.HEADER,
                "input x 65536 1 nograd",
                "param fc.W 1 65536 zeros fc",
                "param fc.b 1 65536 zeros fc",
                "dense fc x fc.W fc.b",
                "output fc", "");
        String msg = assertThrows(GraphException.class, () -> GraphText.decode(text)).getMessage();
        assertTrue(msg.startsWith("graph text line 5"), msg);
        assertTrue(msg.contains("2^31-1"), msg);
        // the builder too: no shape whose size() wraps around
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 65536, 1);
        assertThrows(GraphException.class, () -> b.dense("fc", x, 65536));
    }

    @Test
    void escapesRoundTrip() {
        for (String s : new String[] {"a b", "50%", "tab\there", "ünï", "x"}) assertEquals(s, GraphText.unesc(GraphText.esc(s)));
        assertEquals("a%20b", GraphText.esc("a b"));
    }

    @Test
    void aGraphTextWithMoreLinesThanTheLimitIsRejectedBeforeParsing() {
        String text = "x\n".repeat(GraphText.MAX_LINES + 1);
        GraphException e = assertThrows(GraphException.class, () -> GraphText.decode(text));
        assertTrue(e.getMessage().contains("more than the " + GraphText.MAX_LINES), e.getMessage());
    }
}
