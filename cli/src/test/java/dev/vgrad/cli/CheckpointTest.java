package dev.vgrad.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.cli.model.SafeTensors;
import dev.vgrad.cli.report.Epoch;
import dev.vgrad.cli.report.MetricsCsv;
import dev.vgrad.compile.Slot;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint's optimizer state is checked like its parameters, and a refused checkpoint changes nothing. */
class CheckpointTest {
    @TempDir Path dir;

    /**
     * A NaN in a checkpoint's Adam moments was copied in unchecked: the resumed run's first update made every
     * parameter NaN. Now the load refuses it, naming the tensor and element, and leaves the run's files as they were.
     */
    @Test
    void aNonFiniteOptimizerStateInACheckpointIsRefusedOnResume() throws Exception {
        Path run = dir.resolve("run");
        Cli first = Cli.run("train", "--out", run.toString(), "--epochs", "2", "--stop-after", "1", "--layers", "8", "--no-progress");
        assertEquals(0, first.code(), first::toString);
        Path cp = run.resolve(TrainCommand.CHECKPOINT);
        ModelFile m = ModelFile.loadWithExtras(cp);
        float[] s1 = m.tensors().get("optimizer.state1").clone(), s2 = m.tensors().get("optimizer.state2").clone();
        for (float[] bad : List.of(new float[] {Float.NaN, 17}, new float[] {Float.POSITIVE_INFINITY, 3})) {
            float[] t1 = s1.clone(), t2 = s2.clone();
            (bad[0] != bad[0] ? t1 : t2)[(int) bad[1]] = bad[0];
            String tensor = bad[0] != bad[0] ? "optimizer.state1" : "optimizer.state2";
            Map<String, float[]> params = new LinkedHashMap<>();
            for (Node p : m.graph().params()) params.put(p.name(), m.tensors().get(p.name()));
            ModelFile.save(cp, m.graph(), params, m.metadata(), List.of(new SafeTensors.Tensor("optimizer.state1", new int[] {t1.length}, t1),
                    new SafeTensors.Tensor("optimizer.state2", new int[] {t2.length}, t2)));
            byte[] checkpoint = Files.readAllBytes(cp), metrics = Files.readAllBytes(run.resolve(TrainCommand.METRICS));

            ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.loadWithExtras(cp));
            assertTrue(e.getMessage().contains("tensor '" + tensor + "' has a non-finite value " + bad[0] + " at element " + (int) bad[1]),
                    e.getMessage());
            Cli r = Cli.run("train", "--out", run.toString(), "--resume", "--no-progress");
            assertEquals(Main.BAD_INPUT, r.code(), r::toString);
            assertTrue(r.err().contains(cp.toString()) && r.err().contains("'" + tensor + "'") && r.err().contains("element " + (int) bad[1]), r.err());
            assertArrayEquals(checkpoint, Files.readAllBytes(cp), "the refused checkpoint is left as it was");
            assertArrayEquals(metrics, Files.readAllBytes(run.resolve(TrainCommand.METRICS)));
            assertFalse(Files.exists(run.resolve(TrainCommand.MODEL)));
        }
        // a plain model load still refuses the extra tensors outright
        assertThrows(ModelFileException.class, () -> ModelFile.load(cp));
    }

    /** x (4, 3) -> 5 relu -> 3 logits. */
    static Graph net() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 4, 3);
        b.softmaxCrossEntropy(b.dense("out", b.relu(b.dense("fc1", x, 5)), 3));
        return b.build();
    }

    /** A trainer after three Adam steps: non-trivial parameters, moments, counters. */
    static Trainer trained(long seed) {
        Trainer t = new Trainer(net(), new Optimizer.Adam(0.05f), seed);
        float[] x = new float[12];
        for (int i = 0; i < x.length; i++) x[i] = (i % 5) - 2;
        for (int i = 0; i < 3; i++) t.step(x, new int[] {0, 1, 2, 1});
        return t;
    }

    /** An in-memory checkpoint of {@code t} with the given state tensors and metadata overrides. */
    static ModelFile checkpoint(Trainer t, float[] s1, float[] s2, Map<String, String> override) {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (Slot s : t.plan().params()) tensors.put(s.name(), t.param(s.name()));
        tensors.put("optimizer.state1", s1);
        tensors.put("optimizer.state2", s2);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(TrainCommand.EPOCH, "2");
        meta.put(TrainCommand.UPDATES, Long.toString(t.updates()));
        meta.put(TrainCommand.RATE, "0.025");
        meta.put(TrainCommand.STEPS, Long.toString(t.steps()));
        meta.put(TrainCommand.HISTORY, MetricsCsv.format(List.of(new Epoch(1, 1.0, 0.5, 1.1, 0.4, 0.1, 1000))));
        meta.putAll(override);
        return new ModelFile(t.plan().graph(), tensors, meta);
    }

    /**
     * restore copied the parameters in before checking the optimizer state and metadata, so a refused checkpoint left
     * the trainer half restored. Now everything is checked first: parameters, state, counters, rate and history unchanged.
     */
    @Test
    void aRefusedCheckpointLeavesTheTrainerAsItWas() {
        Trainer source = trained(7);
        float[][] st = source.optimizerState();
        float[] inf = st[1].clone();
        inf[4] = Float.NEGATIVE_INFINITY;
        List<ModelFile> refused = List.of(
                checkpoint(source, st[0].clone(), inf, Map.of()),
                checkpoint(source, st[0].clone(), java.util.Arrays.copyOf(st[1], st[1].length - 1), Map.of()),
                checkpoint(source, st[0].clone(), st[1].clone(), Map.of(TrainCommand.STEPS, "many")),
                checkpoint(source, st[0].clone(), st[1].clone(), Map.of(TrainCommand.RATE, "NaN")));
        List<String> says = List.of("tensor 'optimizer.state2' has a non-finite value -Infinity at element 4", "'optimizer.state2' is of "
                + (st[1].length - 1) + " floats", TrainCommand.STEPS, TrainCommand.RATE);
        for (int c = 0; c < refused.size(); c++) {
            Trainer t = trained(8); // another seed: its parameters differ from the checkpoint's
            float[] params = t.params().clone(), m1 = t.optimizerState()[0].clone(), m2 = t.optimizerState()[1].clone();
            long updates = t.updates(), steps = t.steps();
            float lr = t.learningRate();
            List<Epoch> history = new ArrayList<>();
            ModelFile cp = refused.get(c);
            Path file = dir.resolve("checkpoint.safetensors");
            ModelFileException e = assertThrows(ModelFileException.class, () -> TrainCommand.restore(file, cp, t, history));
            assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains(says.get(c)), e.getMessage());
            assertArrayEquals(params, t.params(), "case " + c + ": parameters unchanged");
            assertArrayEquals(m1, t.optimizerState()[0], "case " + c);
            assertArrayEquals(m2, t.optimizerState()[1], "case " + c);
            assertEquals(updates, t.updates());
            assertEquals(steps, t.steps());
            assertEquals(lr, t.learningRate());
            assertTrue(history.isEmpty());
        }
        // the good checkpoint restores everything
        Trainer t = trained(8);
        List<Epoch> history = new ArrayList<>();
        assertEquals(2, TrainCommand.restore(dir.resolve("checkpoint.safetensors"), checkpoint(source, st[0], st[1], Map.of()), t, history));
        assertArrayEquals(source.params(), t.params());
        assertArrayEquals(st[0], t.optimizerState()[0]);
        assertArrayEquals(st[1], t.optimizerState()[1]);
        assertEquals(3, t.updates());
        assertEquals(3, t.steps());
        assertEquals(0.025f, t.learningRate());
        assertEquals(1, history.size());
    }
}
