package dev.vgrad.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class DotExporterTest {
    private static final Pattern NODE = Pattern.compile("^\\s*(\\w+) \\[label=\"([^\"]*)\"", Pattern.MULTILINE);
    private static final Pattern EDGE = Pattern.compile("^\\s*(\\w+) -> (\\w+)(?: \\[(.*)\\])?;$", Pattern.MULTILINE);

    /** x (4,3) -> dense fc1 (2) + sigmoid (fused) -> dense out (1) -> mse. */
    static Plan small() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 3);
        Node h = b.sigmoid(b.dense("fc1", x, 2));
        b.mse(b.dense("out", h, 1));
        return Compiler.compile(b.build());
    }

    static List<String[]> nodes(String dot) {
        Matcher m = NODE.matcher(dot);
        List<String[]> r = new java.util.ArrayList<>();
        while (m.find()) r.add(new String[] {m.group(1), m.group(2)});
        return r;
    }

    static List<String[]> edges(String dot) {
        Matcher m = EDGE.matcher(dot);
        List<String[]> r = new java.util.ArrayList<>();
        while (m.find()) r.add(new String[] {m.group(1), m.group(2), m.group(3) == null ? "" : m.group(3)});
        return r;
    }

    static String label(List<String[]> nodes, String id) {
        for (String[] n : nodes) if (n[0].equals(id)) return n[1];
        throw new AssertionError("no node " + id);
    }

    @Test
    void smallGraphHasEveryForwardAndBackwardNodeAndEdge() {
        Plan plan = small();
        String dot = plan.toDot();
        assertTrue(dot.startsWith("digraph plan {"), dot);
        assertTrue(dot.strip().endsWith("}"), dot);
        List<String[]> nodes = nodes(dot);
        // 2 leaves (x, targets) + 4 parameters + 8 steps (3 forward incl. the loss, 5 backward: sigmoid' is fused
        // into the dx product); no fan-out, no sum
        assertEquals(2 + 4 + plan.steps().size(), nodes.size(), dot);
        assertEquals(8, plan.steps().size());
        // worked by hand: forward 3+3+2, backward dW 2, db 1, dh·sigmoid' 3 (∂L/∂out, out.W, the saved h), dW 2,
        // db 1, and 4 "update" edges
        List<String[]> edges = edges(dot);
        assertEquals(8 + 9 + 4, edges.size(), dot);
        assertEquals(4, edges.stream().filter(e -> e[2].contains("label=\"update\"")).count());
        // two layer clusters
        assertEquals(2, dot.split("subgraph cluster_", -1).length - 1, dot);
        assertTrue(dot.contains("label=\"layer fc1\""), dot);
        assertTrue(dot.contains("label=\"layer out\""), dot);
        // forward: kernel, shape and fusion; the loss
        assertEquals("fc1+sigmoid4\\ngemm.nn+bias+sigmoid 4x3·3x2\\nfused: dense+bias+sigmoid", label(nodes, "s0"));
        assertEquals("out\\ngemm.nn+bias 4x2·2x1", label(nodes, "s1"));
        assertTrue(label(nodes, "s2").startsWith("loss mse"), label(nodes, "s2"));
        assertTrue(label(nodes, "param_1").startsWith("fc1.W\\nparameter (3, 2)"));
        // backward: each node names the gradient it carries; the dx product with sigmoid' fused turns ∂L/∂out into
        // ∂L/∂fc1 (∂L/∂h is never stored)
        assertTrue(label(nodes, "s3").startsWith("∂L/∂out.W ="), label(nodes, "s3"));
        assertTrue(label(nodes, "s4").startsWith("∂L/∂out.b ="));
        assertEquals("∂L/∂fc1 =\\ngemm.nt·sigmoid' 4x1·(2x1)ᵀ", label(nodes, "s5"));
        assertTrue(label(nodes, "s6").startsWith("∂L/∂fc1.W ="));
        // the gradient edges carry their names, the loss seeds ∂L/∂out
        assertTrue(dot.contains("s2 -> s5 [label=\"∂L/∂out\""), dot);
        assertTrue(dot.contains("s5 -> s6 [label=\"∂L/∂fc1\""), dot);
        // the backward pass reads saved forward values (dotted): h for the fused sigmoid', x for ∂L/∂fc1.W
        assertTrue(dot.contains("s0 -> s5 [style=dotted"), dot);
        assertTrue(dot.contains("in_0 -> s6 [style=dotted"), dot);
        assertTrue(nodes.stream().noneMatch(n -> n[0].startsWith("sum")), dot);
    }

    @Test
    void fanOutIsDrawnAsASumOfContributions() {
        // h = tanh(fc1 x) feeds fc2 and a residual add: ∂L/∂h has two contributions
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 3);
        Node h = b.tanh(b.dense("fc1", x, 3));
        Node r = b.add(h, b.tanh(b.dense("fc2", h, 3)));
        b.mse(b.dense("out", r, 1));
        Plan plan = Compiler.compile(b.build());
        String dot = plan.toDot();
        List<String[]> nodes = nodes(dot);
        List<String[]> sums = nodes.stream().filter(n -> n[0].startsWith("sum")).toList();
        assertEquals(1, sums.size(), dot);
        assertEquals("Σ ∂L/∂" + h.name() + "\\n2 contributions", sums.get(0)[1]);
        assertEquals(2 + 6 + plan.steps().size() + 1, nodes.size());
        List<String[]> edges = edges(dot);
        assertEquals(2, edges.stream().filter(e -> e[1].equals("sum0")).count(), dot);
        // the sum feeds the tanh derivative of fc1, which is the only reader
        List<String[]> out = edges.stream().filter(e -> e[0].equals("sum0")).toList();
        assertEquals(1, out.size(), dot);
        assertTrue(label(nodes, out.get(0)[1]).startsWith("∂L/∂fc1 =\\ntanh'"), dot);
        assertEquals(3, dot.split("subgraph cluster_", -1).length - 1, dot);
    }

    @Test
    void forwardOnlyPlanHasNoBackwardNodes() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 2, 5);
        b.mse(b.dense("fc", b.relu(b.dense("h", x, 4)), 1));
        Plan plan = Compiler.compile(b.build(), CompileOptions.inference());
        String dot = plan.toDot();
        assertFalse(dot.contains("∂L"), dot);
        assertFalse(dot.contains("update"), dot);
        // x + 4 parameters + 2 dense steps; edges: 3 + 3
        assertEquals(1 + 4 + 2, nodes(dot).size(), dot);
        assertEquals(6, edges(dot).size(), dot);
    }

    @Test
    void stepsThatRunSideBySideSayTheirLane() {
        // 784-256-256-10 at batch 128: the output layer's dW, db and dx (steps 4-6) and fc2's (7-9) run side by side
        List<String[]> nodes = nodes(Compiler.compile(CompilerTest.mnistMlp()).toDot());
        assertTrue(label(nodes, "s6").endsWith("\\nside by side: lane 0 of steps 4-6"), label(nodes, "s6"));
        assertTrue(label(nodes, "s4").endsWith("\\nside by side: lane 1 of steps 4-6"), label(nodes, "s4"));
        assertTrue(label(nodes, "s8").endsWith("\\nside by side: lane 1 of steps 7-9"), label(nodes, "s8"));
        assertFalse(label(nodes, "s10").contains("side by side"), label(nodes, "s10"));
        assertFalse(label(nodes, "s0").contains("side by side"), label(nodes, "s0"));
    }
}
