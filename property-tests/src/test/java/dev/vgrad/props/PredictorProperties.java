package dev.vgrad.props;

import static dev.vgrad.props.check.Property.forAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.props.check.Gen;
import dev.vgrad.runtime.Predictor;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Serving: a Predictor agrees bitwise with the training forward pass, whatever the MLP's shape. */
class PredictorProperties {

    /** Widths around the 16-float lane count and the 64-float wide panel. */
    private static final Integer[] WIDTHS = {1, 2, 15, 16, 17, 31, 63, 64, 65, 97, 130};

    /** An MLP: 2 to 4 widths (input first), 4 activations, the rows to predict, the trainer's compiled batch, a data seed. */
    record Mlp(List<Integer> widths, List<Activation> acts, int rows, int batch, long seed) {}

    static Gen<Mlp> mlps() {
        return s -> {
            int n = s.between(2, 4);
            List<Integer> widths = new ArrayList<>();
            for (int i = 0; i < n; i++) widths.add(s.oneOf(WIDTHS));
            List<Activation> acts = new ArrayList<>();
            for (int i = 0; i < 4; i++) acts.add(Gens.activation().draw(s));
            return new Mlp(widths, acts, s.between(1, 9), s.between(1, 12), s.seed());
        };
    }

    @Test
    @DisplayName("a Predictor gives bitwise the trainer's forward pass for any MLP, as a batch and row by row")
    void aPredictorGivesBitwiseTheTrainersForwardPassForAnyMlp() {
        // 8% of the default tries: 40 MLPs at the default 500 (each compiles a trainer and a predictor)
        forAll(8, mlps(), c -> {
            List<Integer> widths = c.widths();
            List<Activation> acts = c.acts();
            int rows = c.rows(), batch = c.batch();
            GraphBuilder b = Graph.builder();
            Node h = b.input("x", batch, widths.get(0));
            for (int i = 1; i < widths.size(); i++) {
                h = b.dense("d" + i, h, widths.get(i));
                if (i < widths.size() - 1 || acts.get(0) == Activation.SIGMOID) h = b.activation(acts.get(i % 4), h, 0.1f);
            }
            b.mse(h);
            Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), c.seed());
            int in = widths.get(0), out = widths.get(widths.size() - 1);
            SplittableRandom r = new SplittableRandom(c.seed());
            float[] x = new float[rows * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 4 - 2);
            // the trainer in chunks of its compiled batch: the reference
            float[] want = new float[rows * out];
            float[] chunk = new float[batch * out];
            for (int r0 = 0; r0 < rows; r0 += batch) {
                int n = Math.min(batch, rows - r0);
                t.forward(Arrays.copyOfRange(x, r0 * in, (r0 + n) * in), n, chunk);
                System.arraycopy(chunk, 0, want, r0 * out, n * out);
            }
            Predictor p = t.predictor();
            float[] got = new float[rows * out];
            p.predict(x, rows, got);
            assertArrayEquals(want, got, "batch of " + rows);
            float[] one = new float[out];
            for (int row = 0; row < rows; row++) {
                p.predict(x, row * in, one, 0);
                assertArrayEquals(Arrays.copyOfRange(want, row * out, row * out + out), one, "row " + row);
            }
        });
    }
}
