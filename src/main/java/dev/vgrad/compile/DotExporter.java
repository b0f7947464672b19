package dev.vgrad.compile;

import dev.vgrad.graph.Activation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws a {@link Plan} as Graphviz DOT: inputs and parameters, one box per forward step (kernel,
 * shape, fused or not), the loss, and one box per backward step labelled with the gradient it carries
 * (∂L/∂h for a value, ∂L/∂W for a weight). A gradient written by several steps (fan-out) gets a sum
 * node adding the contributions. Nodes of one dense layer sit in one cluster.
 *
 * <p>Edges follow the data through the plan's operands: a step reading a buffer is linked to the
 * step that last wrote it (or to the sum of the steps that accumulated into it). Forward values read
 * by the backward pass are drawn dotted; the finished gradient of a parameter points back at the
 * parameter with a dashed "update" edge.
 */
public final class DotExporter {
    private DotExporter() {}

    /** The plan as a DOT digraph (UTF-8 text). */
    public static String export(Plan plan) {
        return new Drawing(plan).draw();
    }

    /** Human notation for a buffer name: "dL/dh" becomes "∂L/∂h". */
    static String math(String bufferName) {
        return bufferName.startsWith("dL/d") ? "∂L/∂" + bufferName.substring(4) : bufferName;
    }

    private static final class Drawing {
        final Plan plan;
        final StringBuilder nodes = new StringBuilder();
        final StringBuilder edges = new StringBuilder();
        /** DOT node lines per layer cluster (null key: outside any layer). */
        final Map<String, List<String>> clusters = new LinkedHashMap<>();
        /** buffer name -> the DOT ids that wrote it since its last overwrite (more than one: a fan-out sum). */
        final Map<String, List<String>> writers = new HashMap<>();
        /** buffer name -> the sum node drawn for its current writers, once a reader needed it. */
        final Map<String, String> sums = new HashMap<>();
        /** buffer name -> what it holds now, as drawn ("∂L/∂fc1" once an in-place derivative rewrote "dL/dsigmoid2"). */
        final Map<String, String> holds = new HashMap<>();
        int sumCount;

        Drawing(Plan plan) { this.plan = plan; }

        String draw() {
            // leaves: the inputs, labels/targets, and the parameters
            for (Slot s : plan.inputs().values().stream().sorted((a, b) -> Integer.compare(a.node().id(), b.node().id())).toList()) {
                String id = "in_" + s.node().id();
                node(null, id, s.name() + "\\n" + s.node().op().name().toLowerCase(Locale.ROOT) + " " + s.shape(),
                        "shape=ellipse, style=filled, fillcolor=\"#e8f0fe\"");
                wrote(s.name(), id, false);
            }
            for (Slot s : plan.params()) {
                String id = "param_" + s.node().id();
                node(s.node().layer(), id, s.name() + "\\nparameter " + s.shape(), "shape=ellipse, style=filled, fillcolor=\"#fff4d6\"");
                wrote(s.name(), id, false);
            }
            // steps, in execution order
            for (Step st : plan.steps()) step(st);
            // a parameter's finished gradient goes to the optimizer, which updates the parameter
            if (plan.training()) {
                for (Slot s : plan.params()) {
                    String g = "dL/d" + s.name();
                    if (!writers.containsKey(g)) continue;
                    edge(reader(g), "param_" + s.node().id(), "update", "style=dashed, color=\"#b06000\", constraint=false");
                }
            }
            StringBuilder sb = new StringBuilder();
            sb.append("digraph plan {\n");
            sb.append("  // vgrad plan: ").append(plan.training() ? "training" : "forward-only").append(", batch ").append(plan.batch())
                    .append(", ").append(plan.steps().size()).append(" steps\n");
            sb.append("  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
            int c = 0;
            for (Map.Entry<String, List<String>> e : clusters.entrySet()) {
                if (e.getKey() == null) {
                    for (String line : e.getValue()) sb.append("  ").append(line).append('\n');
                    continue;
                }
                sb.append("  subgraph cluster_").append(c++).append(" {\n");
                sb.append("    label=\"layer ").append(escape(e.getKey())).append("\"; style=rounded; color=\"#888888\";\n");
                for (String line : e.getValue()) sb.append("    ").append(line).append('\n');
                sb.append("  }\n");
            }
            sb.append(nodes);
            sb.append(edges);
            sb.append("}\n");
            return sb.toString();
        }

        void step(Step st) {
            Operand[] o = st.operands();
            String id = "s" + st.index();
            int[] reads = st.kind().readOperands();
            int[] writes = st.kind().writtenOperands();
            String label;
            String style;
            if (st.kind().isLoss()) {
                String loss = st.label();
                label = "loss " + loss + "\\n" + st.kernel() + " " + st.rows() + "x" + st.cols()
                        + (o[2] != null ? "\\nL and " + math(o[2].name()) + " fused" : "");
                style = "shape=doubleoctagon, style=filled, fillcolor=\"#fde0dc\"";
            } else if (!st.backward()) {
                boolean fused = st.kind() == StepKind.DENSE && st.activation() != Activation.IDENTITY;
                label = st.label() + "\\n" + st.kernel() + " " + shape(st) + (fused ? "\\nfused: dense+bias+" + st.activation().id() : "");
                style = "style=filled, fillcolor=\"#e6f4ea\"";
            } else {
                String carried = carried(st);
                label = carried + (st.accumulate() ? " +=" : " =") + "\\n" + st.kernel() + " " + shape(st);
                style = "style=filled, fillcolor=\"#fce8e6\", color=\"#c5221f\"";
            }
            label += sideBySide(st.index());
            node(st.layer(), id, label, style);
            // edges from what the step reads (values: solid; forward values read by the backward pass: dotted)
            for (int r : reads) {
                if (r >= o.length || o[r] == null) continue;
                String from = reader(o[r].name());
                if (from == null) continue;
                boolean savedValue = st.backward() && !o[r].name().startsWith("dL/d");
                boolean gradient = o[r].name().startsWith("dL/d");
                String attrs = savedValue ? "style=dotted, color=\"#777777\""
                        : gradient ? "color=\"#c5221f\"" : "";
                edge(from, id, gradient ? holds.getOrDefault(o[r].name(), math(o[r].name())) : "", attrs);
            }
            for (int w : writes) {
                if (w >= o.length || o[w] == null) continue;
                wrote(o[w].name(), id, st.accumulate() && w == writes[0]);
                if (st.backward()) holds.put(o[w].name(), carried(st));
            }
        }

        /** For a step of a side-by-side run ({@link Plan#lane}): its lane and the run's steps, on a line of its own. */
        String sideBySide(int step) {
            if (plan.lane(step) < 0) return "";
            int start = step;
            while (plan.runEnd(start) == 0) start--;
            return "\\nside by side: lane " + plan.lane(step) + " of steps " + start + "-" + (plan.runEnd(start) - 1);
        }

        /** The gradient a backward step writes: its target's ∂L/∂name (an activation's derivative writes its input's). */
        String carried(Step st) {
            String label = st.label();
            String target = label.startsWith("d") ? label.substring(1) : label;
            if (target.endsWith(" (sum)")) target = target.substring(0, target.length() - " (sum)".length());
            boolean derivative = st.kind() == StepKind.ACTIVATION_BACKWARD || st.kind() == StepKind.SOFTMAX_BACKWARD
                    || (st.kind() == StepKind.GEMM_NT && st.activation() != Activation.IDENTITY);
            if (derivative && plan.graph().has(target)) {
                target = plan.graph().node(target).input(0).name();
            }
            return "∂L/∂" + target;
        }

        /** Records that node id wrote buffer name: accumulate adds a contribution, otherwise it overwrites. */
        void wrote(String name, String id, boolean accumulate) {
            List<String> ws = writers.get(name);
            if (!accumulate || ws == null) {
                ws = new ArrayList<>();
                writers.put(name, ws);
            }
            ws.add(id);
            sums.remove(name);
        }

        /** The DOT node a reader of buffer name links to: its writer, or the sum of its contributions. */
        String reader(String name) {
            List<String> ws = writers.get(name);
            if (ws == null || ws.isEmpty()) return null;
            if (ws.size() == 1) return ws.get(0);
            String sum = sums.get(name);
            if (sum != null) return sum;
            sum = "sum" + (sumCount++);
            node(null, sum, "Σ " + holds.getOrDefault(name, math(name)) + "\\n" + ws.size() + " contributions",
                    "shape=ellipse, style=\"filled,bold\", fillcolor=\"#fce8e6\", color=\"#c5221f\"");
            for (String w : ws) edge(w, sum, "", "color=\"#c5221f\"");
            sums.put(name, sum);
            return sum;
        }

        void node(String layer, String id, String label, String attrs) {
            String line = id + " [label=\"" + escape(label) + "\"" + (attrs.isEmpty() ? "" : ", " + attrs) + "];";
            clusters.computeIfAbsent(layer, k -> new ArrayList<>()).add(line);
        }

        void edge(String from, String to, String label, String attrs) {
            edges.append("  ").append(from).append(" -> ").append(to);
            List<String> a = new ArrayList<>();
            if (!label.isEmpty()) a.add("label=\"" + escape(label) + "\"");
            if (!attrs.isEmpty()) a.add(attrs);
            if (!a.isEmpty()) edges.append(" [").append(String.join(", ", a)).append(']');
            edges.append(";\n");
        }

        static String shape(Step s) {
            return switch (s.kind()) {
                case DENSE -> s.rows() + "x" + s.inner() + "·" + s.inner() + "x" + s.cols();
                case GEMM_NT -> s.rows() + "x" + s.inner() + "·(" + s.cols() + "x" + s.inner() + ")ᵀ";
                case GEMM_TN -> "(" + s.rows() + "x" + s.inner() + ")ᵀ·" + s.rows() + "x" + s.cols();
                default -> s.rows() + "x" + s.cols();
            };
        }

        /** Escapes quotes and backslashes that are not our own "\n" line breaks. */
        static String escape(String s) {
            StringBuilder b = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char ch = s.charAt(i);
                if (ch == '"') b.append("\\\"");
                else if (ch == '\\' && i + 1 < s.length() && s.charAt(i + 1) == 'n') { b.append("\\n"); i++; }
                else if (ch == '\\') b.append("\\\\");
                else b.append(ch);
            }
            return b.toString();
        }
    }
}
