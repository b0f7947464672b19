package dev.vgrad.graph;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A graph as plain text, one node per line in creation order, so a saved model can be rebuilt from its
 * file alone (model files keep it in their metadata). Every graph {@link GraphBuilder} can make round-trips:
 * same nodes, names, shapes, ops, activations, initialisers, layers, loss and output.
 *
 * <pre>
 * vgrad-graph 1
 * input x 32 64 nograd
 * param fc1.W 64 128 he-uniform fc1
 * param fc1.b 1 128 zeros fc1
 * dense fc1 x fc1.W fc1.b
 * activation relu4 relu 0.0 fc1
 * labels labels8 32
 * loss softmax-cross-entropy softmax-cross-entropy9 out labels8
 * output out
 * </pre>
 *
 * Line forms: {@code input NAME BATCH FEATURES grad|nograd}, {@code labels NAME BATCH},
 * {@code targets NAME BATCH COLS}, {@code param NAME ROWS COLS INIT LAYER|-}, {@code dense NAME X W B},
 * {@code activation NAME ACT ALPHA X}, {@code softmax NAME X}, {@code add NAME A B}, {@code mul NAME A B},
 * {@code loss mse|softmax-cross-entropy|bce-with-logits NAME PREDICTION TARGET}, {@code output NAME}.
 * Names are escaped ({@code %XX} for whitespace, '%' and control characters) so each is one token.
 */
public final class GraphText {
    /** The most lines (about one per node) a decoded graph may have, so a hostile file cannot make compile run for hours. */
    public static final int MAX_LINES = 20_000;

    private GraphText() {}

    /** The first line of every encoding. */
    public static final String HEADER = "vgrad-graph 1";

    /** The graph as text; {@link #decode} rebuilds it. */
    public static String encode(Graph g) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Node n : g.nodes()) {
            Shape s = n.shape();
            switch (n.op()) {
                case INPUT -> line(sb, "input", esc(n.name()), s.rows(), s.cols(), n.requiresGrad() ? "grad" : "nograd");
                case LABELS -> line(sb, "labels", esc(n.name()), s.rows());
                case TARGETS -> line(sb, "targets", esc(n.name()), s.rows(), s.cols());
                case PARAM -> line(sb, "param", esc(n.name()), s.rows(), s.cols(), initId(n.init()), n.layer() == null ? "-" : esc(n.layer()));
                case DENSE -> line(sb, "dense", esc(n.name()), ref(n, 0), ref(n, 1), ref(n, 2));
                case ACTIVATION -> line(sb, "activation", esc(n.name()), n.activation().id(), Float.toString(n.alpha()), ref(n, 0));
                case SOFTMAX -> line(sb, "softmax", esc(n.name()), ref(n, 0));
                case ADD -> line(sb, "add", esc(n.name()), ref(n, 0), ref(n, 1));
                case MUL -> line(sb, "mul", esc(n.name()), ref(n, 0), ref(n, 1));
                case MSE, SOFTMAX_CROSS_ENTROPY, BCE_WITH_LOGITS -> line(sb, "loss", lossId(n.op()), esc(n.name()), ref(n, 0), ref(n, 1));
            }
        }
        line(sb, "output", esc(g.output().name()));
        return sb.toString();
    }

    /** Rebuilds the graph {@link #encode} wrote, with its batch. */
    public static Graph decode(String text) { return decode(text, 0); }

    /**
     * Rebuilds the graph {@link #encode} wrote; a positive {@code batch} replaces the batch of every input,
     * labels and targets node (e.g. to serve one row at a time). Any fault is a {@link GraphException}
     * naming the line.
     */
    public static Graph decode(String text, int batch) {
        if (text == null) throw new GraphException("graph text: missing");
        String[] lines = text.split("\n", -1);
        if (lines.length > MAX_LINES) {
            throw new GraphException("graph text: " + lines.length + " lines, more than the " + MAX_LINES
                    + " nodes a graph from a file may have (compile time grows with the square of the node count)");
        }
        if (lines.length == 0 || !lines[0].strip().equals(HEADER)) {
            throw new GraphException("graph text line 1: expected '" + HEADER + "', got '" + shorten(lines.length == 0 ? "" : lines[0]) + "'");
        }
        GraphBuilder b = Graph.builder();
        Map<String, Node> byName = new HashMap<>();
        boolean output = false;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            int lineNo = i + 1;
            if (output) throw new GraphException("graph text line " + lineNo + ": nothing may follow the 'output' line");
            String[] t = line.split(" +");
            try {
                Node n = switch (t[0]) {
                    case "input" -> {
                        arity(t, 5);
                        if (!t[4].equals("grad") && !t[4].equals("nograd")) throw new GraphException("expected grad or nograd, got '" + shorten(t[4]) + "'");
                        int rows = batch(t[2], batch), cols = dim(t[3]);
                        size(rows, cols);
                        yield b.input(unesc(t[1]), rows, cols, t[4].equals("grad"));
                    }
                    case "labels" -> {
                        arity(t, 3);
                        yield b.labels(unesc(t[1]), batch(t[2], batch));
                    }
                    case "targets" -> {
                        arity(t, 4);
                        int rows = batch(t[2], batch), cols = dim(t[3]);
                        size(rows, cols);
                        yield b.targets(unesc(t[1]), rows, cols);
                    }
                    case "param" -> {
                        arity(t, 6);
                        int rows = dim(t[2]), cols = dim(t[3]);
                        size(rows, cols);
                        yield b.param(unesc(t[1]), rows, cols, init(t[4]), t[5].equals("-") ? null : unesc(t[5]));
                    }
                    case "dense" -> {
                        arity(t, 5);
                        yield b.dense(unesc(t[1]), node(byName, t[2]), node(byName, t[3]), node(byName, t[4]));
                    }
                    case "activation" -> {
                        arity(t, 5);
                        Activation act = Activation.parse(t[2]);
                        float alpha = Float.parseFloat(t[3]);
                        Node x = node(byName, t[4]);
                        yield b.nextName(unesc(t[1])).activation(act, x, alpha);
                    }
                    case "softmax" -> {
                        arity(t, 3);
                        Node x = node(byName, t[2]);
                        yield b.nextName(unesc(t[1])).softmax(x);
                    }
                    case "add", "mul" -> {
                        arity(t, 4);
                        Node x = node(byName, t[2]), y = node(byName, t[3]);
                        b.nextName(unesc(t[1]));
                        yield t[0].equals("add") ? b.add(x, y) : b.mul(x, y);
                    }
                    case "loss" -> {
                        arity(t, 5);
                        Node p = node(byName, t[3]), target = node(byName, t[4]);
                        String kind = t[1];
                        b.nextName(unesc(t[2]));
                        yield switch (kind) {
                            case "mse" -> b.mse(p, target);
                            case "softmax-cross-entropy" -> b.softmaxCrossEntropy(p, target);
                            case "bce-with-logits" -> b.binaryCrossEntropyWithLogits(p, target);
                            default -> throw new GraphException("unknown loss '" + shorten(kind) + "' (one of mse, softmax-cross-entropy, bce-with-logits)");
                        };
                    }
                    case "output" -> {
                        arity(t, 2);
                        b.output(node(byName, t[1]));
                        output = true;
                        yield null;
                    }
                    default -> throw new GraphException("unknown node kind '" + shorten(t[0]) + "'");
                };
                if (n != null) byName.put(n.name(), n);
            } catch (IllegalArgumentException e) { // GraphException, NumberFormatException, bad enum ids
                throw new GraphException("graph text line " + lineNo + ": " + e.getMessage());
            }
        }
        if (!output) throw new GraphException("graph text: no 'output' line (the text is truncated)");
        return b.build();
    }

    // ---- writing ----

    private static void line(StringBuilder sb, Object... tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (i > 0) sb.append(' ');
            sb.append(tokens[i]);
        }
        sb.append('\n');
    }

    private static String ref(Node n, int i) { return esc(n.input(i).name()); }

    private static String initId(Init init) { return init.name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    private static String lossId(Op op) {
        return switch (op) {
            case MSE -> "mse";
            case SOFTMAX_CROSS_ENTROPY -> "softmax-cross-entropy";
            case BCE_WITH_LOGITS -> "bce-with-logits";
            default -> throw new IllegalStateException(op + " is not a loss");
        };
    }

    /** Percent-escapes the bytes of whitespace, '%' and control characters so a name is one token. */
    static String esc(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte by : bytes) {
            int c = by & 0xff;
            if (c <= ' ' || c == '%' || c == 0x7f) {
                byte[] hex = String.format("%%%02X", c).getBytes(StandardCharsets.US_ASCII);
                out.write(hex, 0, hex.length);
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    // ---- reading ----

    static String unesc(String token) {
        if (token.indexOf('%') < 0) return token;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%') {
                if (i + 2 >= bytes.length) throw new GraphException("bad escape in name '" + shorten(token) + "'");
                int hi = Character.digit(bytes[i + 1], 16), lo = Character.digit(bytes[i + 2], 16);
                if (hi < 0 || lo < 0) throw new GraphException("bad escape in name '" + shorten(token) + "'");
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                out.write(bytes[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void arity(String[] t, int n) {
        if (t.length != n) throw new GraphException("'" + shorten(t[0]) + "' takes " + (n - 1) + " fields, got " + (t.length - 1));
    }

    private static Node node(Map<String, Node> byName, String token) {
        String name = unesc(token);
        Node n = byName.get(name);
        if (n == null) throw new GraphException("no earlier node named '" + shorten(name) + "'");
        return n;
    }

    private static int dim(String token) {
        int v = Integer.parseInt(token);
        if (v <= 0) throw new GraphException("dimensions must be positive, got " + v);
        return v;
    }

    private static int batch(String token, int override) {
        int v = dim(token);
        return override > 0 ? override : v;
    }

    private static void size(int rows, int cols) {
        if ((long) rows * cols > Integer.MAX_VALUE) throw new GraphException("shape (" + rows + ", " + cols + ") has more than 2^31-1 elements");
    }

    private static Init init(String id) {
        try {
            return Init.parse(id);
        } catch (IllegalArgumentException e) {
            throw new GraphException("unknown initialiser '" + shorten(id) + "'");
        }
    }

    private static String shorten(String s) { return s.length() <= 40 ? s : s.substring(0, 40) + "..."; }
}
