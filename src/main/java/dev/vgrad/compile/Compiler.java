package dev.vgrad.compile;

import dev.vgrad.autodiff.Autodiff;
import dev.vgrad.autodiff.GradKernel;
import dev.vgrad.autodiff.GradOp;
import dev.vgrad.autodiff.Ref;
import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphException;
import dev.vgrad.graph.Node;
import dev.vgrad.graph.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Compiles a graph into a {@link Plan}: topological order, fusion (dense + bias + activation; the
 * activation derivative in place on the incoming gradient, inside the dx product that wrote its only
 * contribution where there is one; softmax + cross-entropy and every loss with its gradient), the backward
 * ops from {@link Autodiff}, liveness, and buffer placement.
 */
public final class Compiler {
    private Compiler() {}

    public static Plan compile(Graph graph) { return compile(graph, CompileOptions.defaults()); }

    public static Plan compile(Graph graph, CompileOptions options) {
        return new Lowering(graph, options).lower();
    }

    /** One logical buffer while lowering: its space, size, live range and, once planned, offset. */
    private static final class Buf {
        final String name;
        final Space space;
        final int size;
        int first = Integer.MAX_VALUE, last = -1, offset = -1;

        Buf(String name, Space space, int size) {
            this.name = name;
            this.space = space;
            this.size = size;
        }

        void use(int step) {
            first = Math.min(first, step);
            last = Math.max(last, step);
        }
    }

    /** A step before placement: operands still refer to logical buffers. */
    private record Draft(StepKind kind, boolean backward, String label, int rows, int cols, int inner, Activation act,
                         float alpha, boolean accumulate, Buf[] operands, String layer) {}

    private static final class Lowering {
        final Graph graph;
        final CompileOptions opt;
        final boolean training;
        final Map<Node, Buf> values = new HashMap<>();
        final Map<Node, Buf> grads = new HashMap<>();
        final Map<Node, Node> fusedInto = new HashMap<>(); // dense -> the activation fused into it
        final List<Draft> drafts = new ArrayList<>();
        int paramsTop = 0;

        Lowering(Graph graph, CompileOptions opt) {
            this.graph = graph;
            this.opt = opt;
            this.training = opt.training();
            if (training && graph.loss() == null) {
                throw new GraphException("cannot compile a training plan: the graph has no loss (compile with CompileOptions.inference())");
            }
        }

        Plan lower() {
            List<Node> order = order();
            Map<Node, List<Node>> consumers = Graph.consumers(order);
            Node out = graph.output();
            // fusion: a dense whose only consumer is an activation runs as one kernel
            if (opt.fusion()) {
                for (Node n : order) {
                    if (n.op() != Op.DENSE || n == out) continue;
                    List<Node> cs = consumers.get(n);
                    if (cs.size() == 1 && cs.get(0).op() == Op.ACTIVATION) fusedInto.put(n, cs.get(0));
                }
            }
            Autodiff.Backward bw = null;
            if (training) bw = Autodiff.differentiate(graph, graph.orderFrom(graph.loss()));
            allocate(order, bw);
            forward(order, bw);
            int forwardSteps = drafts.size();
            int lossStep = training ? forwardSteps - 1 : -1;
            if (training) backward(bw);
            return place(order, bw, forwardSteps, lossStep);
        }

        /** The nodes the loss (training) or the output needs, in creation order (a topological order). */
        List<Node> order() {
            TreeSet<Integer> ids = new TreeSet<>();
            for (Node n : graph.orderFrom(graph.output())) ids.add(n.id());
            if (training) for (Node n : graph.orderFrom(graph.loss())) ids.add(n.id());
            List<Node> order = new ArrayList<>();
            for (int id : ids) order.add(graph.nodes().get(id));
            return order;
        }

        void allocate(List<Node> order, Autodiff.Backward bw) {
            for (Node n : order) {
                switch (n.op()) {
                    case PARAM -> {
                        values.put(n, new Buf(n.name(), Space.PARAMS, n.shape().size()));
                    }
                    case MSE, SOFTMAX_CROSS_ENTROPY, BCE_WITH_LOGITS -> { } // a scalar the kernel returns
                    case DENSE -> {
                        Node act = fusedInto.get(n);
                        // a fused dense keeps its pre-activation only for GELU's derivative
                        if (act == null || (training && act.activation() == Activation.GELU)) {
                            values.put(n, new Buf(n.name(), Space.ARENA, n.shape().size()));
                        }
                    }
                    default -> values.put(n, new Buf(n.name(), Space.ARENA, n.shape().size()));
                }
            }
            if (bw == null) return;
            for (Node n : order) {
                if (!bw.needs(n) || n.op().isLoss()) continue;
                if (!bw.contributions().containsKey(n)) continue;
                if (n.op() == Op.PARAM) {
                    grads.put(n, new Buf("dL/d" + n.name(), Space.GRADS, n.shape().size()));
                }
            }
            // arena gradients, consumers first so a fused dense can alias its activation's gradient
            for (int i = order.size() - 1; i >= 0; i--) {
                Node n = order.get(i);
                if (!bw.needs(n) || n.op().isLoss() || n.op() == Op.PARAM || !bw.contributions().containsKey(n)) continue;
                Node act = fusedInto.get(n);
                if (act != null && grads.containsKey(act)) {
                    grads.put(n, grads.get(act)); // activation derivative applied in place: dL/d(dense) overwrites dL/d(act)
                } else {
                    grads.put(n, new Buf("dL/d" + n.name(), Space.ARENA, n.shape().size()));
                }
            }
        }

        void forward(List<Node> order, Autodiff.Backward bw) {
            int batch = -1;
            for (Node n : order) {
                if (n.shape().batched()) batch = n.shape().rows();
                switch (n.op()) {
                    case INPUT, LABELS, TARGETS, PARAM -> { }
                    case DENSE -> {
                        Node x = n.input(0), w = n.input(1), b = n.input(2);
                        Node act = fusedInto.get(n);
                        Node y = act != null ? act : n;
                        Buf z = act != null ? values.get(n) : null;
                        String label = act != null ? n.name() + "+" + act.name() : n.name();
                        add(StepKind.DENSE, false, label, n.shape().rows(), n.shape().cols(), x.shape().cols(),
                                act != null ? act.activation() : Activation.IDENTITY, act != null ? act.alpha() : 0f, false,
                                n.layer(), values.get(x), values.get(w), values.get(b), values.get(y), z);
                    }
                    case ACTIVATION -> {
                        if (fusedInto.containsValue(n)) continue;
                        add(StepKind.ACTIVATION, false, n.name(), n.shape().rows(), n.shape().cols(), 0, n.activation(), n.alpha(),
                                false, n.layer(), values.get(n.input(0)), values.get(n));
                    }
                    case SOFTMAX -> add(StepKind.SOFTMAX, false, n.name(), n.shape().rows(), n.shape().cols(), 0, Activation.IDENTITY,
                            0f, false, n.layer(), values.get(n.input(0)), values.get(n));
                    case ADD, MUL -> add(n.op() == Op.ADD ? StepKind.ADD : StepKind.MUL, false, n.name(), n.shape().rows(),
                            n.shape().cols(), 0, Activation.IDENTITY, 0f, false, n.layer(),
                            values.get(n.input(0)), values.get(n.input(1)), values.get(n));
                    case MSE, SOFTMAX_CROSS_ENTROPY, BCE_WITH_LOGITS -> {
                        if (!training) continue;
                        Node p = n.input(0), t = n.input(1);
                        StepKind k = switch (n.op()) {
                            case MSE -> StepKind.LOSS_MSE;
                            case SOFTMAX_CROSS_ENTROPY -> StepKind.LOSS_SOFTMAX_CROSS_ENTROPY;
                            default -> StepKind.LOSS_BCE_WITH_LOGITS;
                        };
                        add(k, false, n.name(), p.shape().rows(), p.shape().cols(), 0, Activation.IDENTITY, 0f, false, null,
                                values.get(p), values.get(t), bw.needs(p) ? grads.get(p) : null);
                    }
                }
            }
            if (batch < 0) throw new GraphException("the graph has no batched input");
        }

        void backward(Autodiff.Backward bw) {
            for (GradOp op : bw.ops()) {
                Node rule = op.node();
                Node target = op.out().node();
                Buf dx = grads.get(target);
                switch (op.kernel()) {
                    case LOSS_SEED -> {
                        if (op.accumulate()) throw new IllegalStateException("the loss's gradient must be the first contribution");
                    }
                    case ACTIVATION_BACKWARD -> {
                        Buf v = buf(op.inputs().get(0)), dy = buf(op.inputs().get(1));
                        Draft last = drafts.get(drafts.size() - 1);
                        if (opt.fusion() && !op.accumulate() && dy == dx && last.kind() == StepKind.GEMM_NT && !last.accumulate()
                                && last.act() == Activation.IDENTITY && last.operands()[2] == dy) {
                            // the derivative fused into the dx product that wrote its only contribution just before: applied
                            // in place to each finished block of that GEMM (GemmEpilogue.derivative)
                            drafts.set(drafts.size() - 1, new Draft(StepKind.GEMM_NT, true, "d" + rule.name(), last.rows(), last.cols(),
                                    last.inner(), rule.activation(), rule.alpha(), false,
                                    new Buf[] {last.operands()[0], last.operands()[1], dx, v}, last.layer()));
                        } else {
                            add(StepKind.ACTIVATION_BACKWARD, true, "d" + rule.name(), rule.shape().rows(), rule.shape().cols(), 0,
                                    rule.activation(), rule.alpha(), op.accumulate(), rule.layer(), v, dy, dx);
                        }
                    }
                    case SOFTMAX_BACKWARD -> add(StepKind.SOFTMAX_BACKWARD, true, "d" + rule.name(), rule.shape().rows(),
                            rule.shape().cols(), 0, Activation.IDENTITY, 0f, op.accumulate(), rule.layer(),
                            buf(op.inputs().get(0)), buf(op.inputs().get(1)), dx);
                    case MATMUL_NT -> {
                        Node w = rule.input(1);
                        add(StepKind.GEMM_NT, true, "d" + target.name(), rule.shape().rows(), w.shape().rows(), w.shape().cols(),
                                Activation.IDENTITY, 0f, op.accumulate(), rule.layer(), buf(op.inputs().get(0)), values.get(w), dx);
                    }
                    case MATMUL_TN -> {
                        Node x = rule.input(0);
                        add(StepKind.GEMM_TN, true, "d" + target.name(), rule.shape().rows(), rule.shape().cols(), x.shape().cols(),
                                Activation.IDENTITY, 0f, op.accumulate(), rule.layer(), values.get(x), buf(op.inputs().get(1)), dx);
                    }
                    case COL_SUM -> add(StepKind.COL_SUM, true, "d" + target.name(), rule.shape().rows(), rule.shape().cols(), 0,
                            Activation.IDENTITY, 0f, op.accumulate(), rule.layer(), buf(op.inputs().get(0)), dx);
                    case ACCUMULATE -> add(StepKind.ACCUMULATE, true, "d" + target.name() + " (sum)", rule.shape().rows(),
                            rule.shape().cols(), 0, Activation.IDENTITY, 0f, op.accumulate(), rule.layer(), buf(op.inputs().get(0)), dx);
                    case MUL_ACCUMULATE -> add(StepKind.MUL_ACCUMULATE, true, "d" + target.name(), rule.shape().rows(),
                            rule.shape().cols(), 0, Activation.IDENTITY, 0f, op.accumulate(), rule.layer(),
                            buf(op.inputs().get(0)), buf(op.inputs().get(1)), dx);
                }
            }
        }

        Buf buf(Ref r) {
            Buf b = r.grad() ? grads.get(r.node()) : values.get(r.node());
            if (b == null) throw new IllegalStateException("no buffer for " + r);
            return b;
        }

        void add(StepKind kind, boolean backward, String label, int rows, int cols, int inner, Activation act, float alpha,
                 boolean accumulate, String layer, Buf... operands) {
            drafts.add(new Draft(kind, backward, label, rows, cols, inner, act, alpha, accumulate, operands, layer));
        }

        Plan place(List<Node> order, Autodiff.Backward bw, int forwardSteps, int lossStep) {
            int end = drafts.size();
            // liveness: a buffer lives from its first to its last use
            for (int s = 0; s < end; s++) for (Buf b : drafts.get(s).operands()) if (b != null) b.use(s);
            List<Slot> params = new ArrayList<>();
            Map<String, Slot> inputs = new LinkedHashMap<>();
            List<Buf> arena = new ArrayList<>();
            List<Buf> inputBufs = new ArrayList<>();
            for (Node n : order) {
                Buf v = values.get(n);
                if (v == null) continue;
                if (n.op() == Op.INPUT || n.op() == Op.LABELS || n.op() == Op.TARGETS) {
                    v.use(0); // written by the caller before step 0
                    inputBufs.add(v);
                }
            }
            Buf outBuf = values.get(graph.output());
            if (outBuf == null) {
                Node act = fusedInto.get(graph.output());
                outBuf = values.get(act);
            }
            outBuf.use(Math.max(0, forwardSteps - 1)); // read by forward() after the forward steps
            if (outBuf.first == Integer.MAX_VALUE) outBuf.use(0);
            List<Buf> inputGradBufs = new ArrayList<>();
            if (bw != null) {
                for (Node n : order) {
                    if (n.op() == Op.INPUT && n.requiresGrad() && grads.containsKey(n)) {
                        Buf g = grads.get(n);
                        g.use(end); // kept to the end of the step for the caller
                        inputGradBufs.add(g);
                    }
                }
            }
            // parameters: contiguous in graph order
            for (Node n : order) {
                if (n.op() != Op.PARAM) continue;
                Buf v = values.get(n);
                v.offset = paramsTop;
                Buf g = grads.get(n);
                if (g != null) g.offset = paramsTop;
                params.add(new Slot(n.name(), n, Space.PARAMS, paramsTop, n.shape().size(), n.shape()));
                paramsTop += n.shape().size();
            }
            // arena: every distinct arena buffer in first-use order
            List<Buf> all = new ArrayList<>();
            java.util.Set<Buf> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (Buf b : values.values()) if (b.space == Space.ARENA && seen.add(b)) all.add(b);
            for (Buf b : grads.values()) if (b.space == Space.ARENA && seen.add(b)) all.add(b);
            for (Buf b : all) {
                if (b.first == Integer.MAX_VALUE) continue; // never used (e.g. a value only the loss's prediction side needs)
                arena.add(b);
            }
            arena.sort((a, b) -> a.first != b.first ? Integer.compare(a.first, b.first) : a.name.compareTo(b.name));
            List<BufferPlanner.Request> reqs = new ArrayList<>();
            for (Buf b : arena) reqs.add(new BufferPlanner.Request(b.size, b.first, b.last));
            BufferPlanner.Placement withReuse = BufferPlanner.plan(reqs, true);
            BufferPlanner.Placement noReuse = BufferPlanner.plan(reqs, false);
            BufferPlanner.Placement chosen = opt.reuse() ? withReuse : noReuse;
            List<BufferInfo> infos = new ArrayList<>();
            for (int i = 0; i < arena.size(); i++) {
                Buf b = arena.get(i);
                b.offset = chosen.offsets()[i];
                infos.add(new BufferInfo(b.name, b.offset, b.size, b.first, b.last));
            }
            for (Buf b : inputBufs) {
                Node n = nodeOf(b);
                inputs.put(n.name(), new Slot(n.name(), n, Space.ARENA, b.offset, b.size, n.shape()));
            }
            Node outNode = graph.output();
            Slot output = new Slot(outNode.name(), outNode, Space.ARENA, outBuf.offset, outBuf.size, outNode.shape());
            List<Slot> inputGrads = new ArrayList<>();
            for (Buf g : inputGradBufs) {
                Node n = nodeOfGrad(g);
                inputGrads.add(new Slot(n.name(), n, Space.ARENA, g.offset, g.size, n.shape()));
            }
            List<Step> steps = new ArrayList<>();
            Map<Buf, Operand> operandOf = new HashMap<>();
            for (int s = 0; s < end; s++) {
                Draft d = drafts.get(s);
                Operand[] ops = new Operand[d.operands().length];
                for (int i = 0; i < ops.length; i++) {
                    Buf b = d.operands()[i];
                    if (b == null) continue;
                    ops[i] = operandOf.computeIfAbsent(b, x -> new Operand(x.space, x.offset, x.size, x.name));
                }
                steps.add(new Step(s, d.kind(), d.backward(), d.label(), d.rows(), d.cols(), d.inner(), d.act(), d.alpha(),
                        d.accumulate(), ops, d.layer()));
            }
            int batch = 0;
            for (Node n : order) if (n.shape().batched()) { batch = n.shape().rows(); break; }
            return new Plan(graph, opt, batch, steps, forwardSteps, lossStep, params, paramsTop, inputs, output, inputGrads,
                    infos, chosen.size(), withReuse.size(), noReuse.size());
        }

        Node nodeOf(Buf b) {
            for (Map.Entry<Node, Buf> e : values.entrySet()) if (e.getValue() == b) return e.getKey();
            throw new IllegalStateException("no node for buffer " + b.name);
        }

        Node nodeOfGrad(Buf b) {
            for (Map.Entry<Node, Buf> e : grads.entrySet()) if (e.getValue() == b && e.getKey().op() == Op.INPUT) return e.getKey();
            throw new IllegalStateException("no node for gradient buffer " + b.name);
        }
    }
}
