package dev.vgrad.props;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.vgrad.graph.Activation;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Node;
import dev.vgrad.runtime.Predictor;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Serving: a Predictor agrees bitwise with the training forward pass, whatever the MLP's shape. */
class PredictorProperties {

    @Provide
    Arbitrary<List<Integer>> widths() {
        // widths around the 16-float lane count and the 64-float wide panel
        return Arbitraries.of(1, 2, 15, 16, 17, 31, 63, 64, 65, 97, 130).list().ofMinSize(2).ofMaxSize(4);
    }

    @Property(tries = 40)
    void aPredictorGivesBitwiseTheTrainersForwardPassForAnyMlp(@ForAll("widths") List<Integer> widths,
                                                             @ForAll @Size(4) List<Activation> acts,
                                                             @ForAll @IntRange(min = 1, max = 9) int rows,
                                                             @ForAll @IntRange(min = 1, max = 12) int batch,
                                                             @ForAll long seed) {
        GraphBuilder b = Graph.builder();
        Node h = b.input("x", batch, widths.get(0));
        for (int i = 1; i < widths.size(); i++) {
            h = b.dense("d" + i, h, widths.get(i));
            if (i < widths.size() - 1 || acts.get(0) == Activation.SIGMOID) h = b.activation(acts.get(i % 4), h, 0.1f);
        }
        b.mse(h);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.01f), seed);
        int in = widths.get(0), out = widths.get(widths.size() - 1);
        SplittableRandom r = new SplittableRandom(seed);
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
    }
}
