package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.GraphException;
import dev.vgrad.graph.Node;
import org.junit.jupiter.api.Test;

/** Bad input fails with a message naming the problem, and changes nothing. */
class BadInputTest {
    @Test
    void aShapeMismatchAtDefinitionNamesTheOpTheNodesAndBothShapes() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 8, 5);
        Node h = b.dense("fc1", x, 3);
        Node other = b.dense("fc2", x, 4);
        GraphException e = assertThrows(GraphException.class, () -> b.add(h, other));
        assertTrue(e.getMessage().contains("add"), e.getMessage());
        assertTrue(e.getMessage().contains("'fc1' (8, 3)") && e.getMessage().contains("'fc2' (8, 4)"), e.getMessage());

        Node w = b.param("W", 7, 2, dev.vgrad.graph.Init.ZEROS);
        Node bias = b.param("bias", 1, 2, dev.vgrad.graph.Init.ZEROS);
        GraphException d = assertThrows(GraphException.class, () -> b.dense("fc3", x, w, bias));
        assertTrue(d.getMessage().contains("dense 'fc3'") && d.getMessage().contains("'x' (8, 5)") && d.getMessage().contains("'W' (7, 2)"),
                d.getMessage());
    }

    @Test
    void aSecondInputWithAnotherBatchIsRejected() {
        GraphBuilder b = Graph.builder();
        b.input("x", 8, 5);
        GraphException e = assertThrows(GraphException.class, () -> b.input("y", 4, 5));
        assertTrue(e.getMessage().contains("batch 4") && e.getMessage().contains("8"), e.getMessage());
    }

    Trainer trainer() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 3);
        b.softmaxCrossEntropy(b.dense("out", b.relu(b.dense("fc1", x, 5)), 3));
        return new Trainer(b.build(), new Optimizer.Adam(0.1f), 1);
    }

    @Test
    void badCallsAtStepAreRejectedAndLeaveTheParametersUnchanged() {
        Trainer t = trainer();
        float[] before = t.params().clone();
        float[] good = new float[12];
        int[] labels = {0, 1, 2, 0};

        IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> t.step(new float[11], labels));
        assertTrue(len.getMessage().contains("input 'x'") && len.getMessage().contains("12") && len.getMessage().contains("11"), len.getMessage());

        float[] nan = good.clone();
        nan[7] = Float.NaN;
        IllegalArgumentException fin = assertThrows(IllegalArgumentException.class, () -> t.step(nan, labels));
        assertTrue(fin.getMessage().contains("non-finite") && fin.getMessage().contains("row 2") && fin.getMessage().contains("column 1"),
                fin.getMessage());

        float[] inf = good.clone();
        inf[0] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> t.step(inf, labels));

        IllegalArgumentException lab = assertThrows(IllegalArgumentException.class, () -> t.step(good, new int[] {0, 3, 1, 1}));
        assertTrue(lab.getMessage().contains("label 3") && lab.getMessage().contains("row 1"), lab.getMessage());

        // null labels: a clear message, not a NullPointerException from reading their length
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class, () -> t.step(good, (int[]) null));
        assertTrue(nul.getMessage().contains("labels") && nul.getMessage().contains("null"), nul.getMessage());

        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class, () -> t.step(new float[15], new int[5]));
        assertTrue(rows.getMessage().contains("[1, 4]"), rows.getMessage());

        assertThrows(IllegalArgumentException.class, () -> t.setParam("fc1.W", new float[2]));
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> t.param("nope"));
        assertTrue(name.getMessage().contains("nope") && name.getMessage().contains("fc1.W"), name.getMessage());

        assertArrayEquals(before, t.params(), "a rejected call must not change any parameter");
        assertTrue(t.updates() == 0, "no optimizer update happened");
        // and the trainer still works
        t.step(good, labels);
    }

    /** setParam took NaN and infinity as they came: the next step's loss was NaN. Now refused, naming the parameter and index. */
    @Test
    void setParamRefusesNonFiniteValuesAndKeepsTheParameter() {
        Trainer t = trainer();
        float[] before = t.param("fc1.W"); // (3, 5)
        float[] nan = new float[15];
        for (int i = 0; i < nan.length; i++) nan[i] = i;
        nan[7] = Float.NaN; // row 1, column 2
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.setParam("fc1.W", nan));
        assertTrue(e.getMessage().contains("parameter 'fc1.W'") && e.getMessage().contains("NaN") && e.getMessage().contains("index 7")
                && e.getMessage().contains("row 1, column 2"), e.getMessage());
        assertArrayEquals(before, t.param("fc1.W"), "a refused setParam leaves the parameter as it was");

        float[] bias = t.param("out.b"); // (1, 3)
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> t.setParam("out.b", new float[] {0, 0, bad}));
            assertTrue(f.getMessage().contains("parameter 'out.b'") && f.getMessage().contains("Infinity") && f.getMessage().contains("index 2"),
                    f.getMessage());
        }
        assertArrayEquals(bias, t.param("out.b"));
        // finite extremes are taken
        t.setParam("out.b", new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE});
        assertArrayEquals(new float[] {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE}, t.param("out.b"));
    }
}
