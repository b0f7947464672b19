package dev.vgrad.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import org.junit.jupiter.api.Test;

/** A value feeding several nodes receives the sum of their gradients. */
class FanOutTest {
    @Test
    void anInputFeedingTwoAddedBranchesGetsTheSumOfBothGradients() {
        // y = tanh(x) + sigmoid(x), L = mean((y - t)^2) over 3 elements
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 1, 3, true);
        Node y = b.add(b.tanh(x), b.sigmoid(x));
        b.mse(y);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 0);
        float[] xs = {0.3f, -1.2f, 2.0f};
        float[] ts = {0.5f, 0.0f, 1.0f};
        t.gradients(xs, ts, 1);
        float[] dx = t.inputGrad("x");
        for (int i = 0; i < 3; i++) {
            double th = Math.tanh(xs[i]), sg = 1 / (1 + Math.exp(-xs[i]));
            double dy = 2 * (th + sg - ts[i]) / 3;
            double viaTanh = dy * (1 - th * th), viaSigmoid = dy * sg * (1 - sg);
            assertEquals(viaTanh + viaSigmoid, dx[i], 1e-6, "dL/dx[" + i + "] = tanh branch + sigmoid branch");
        }
    }

    @Test
    void aNodeAddedToItselfGetsTwiceTheGradient() {
        GraphBuilder b = Graph.builder();
        Node x = b.input("x", 2, 2, true);
        b.mse(b.add(x, x));
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 0);
        float[] xs = {1f, 2f, 3f, 4f};
        float[] ts = {0f, 0f, 0f, 0f};
        t.gradients(xs, ts, 2);
        // L = mean((2x)^2) over 4 -> dL/dx = 2 * 2 * (2x) / 4 = 2x
        assertArrayEquals(new float[] {2f, 4f, 6f, 8f}, t.inputGrad("x"), 1e-6f);
    }

    @Test
    void aResidualBlockSumsTheSkipAndTheDenseBranch() {
        // r = h + dense(h) with W = I-like weights: dL/dh = dL/dr + dL/dr Wᵀ
        GraphBuilder b = Graph.builder().defaultInit(Init.ZEROS);
        Node h = b.input("h", 1, 2, true);
        Node r = b.add(h, b.dense("res", h, 2));
        b.mse(r);
        Trainer t = new Trainer(b.build(), new Optimizer.Sgd(0.1f), 0);
        t.setParam("res.W", new float[] {1f, 2f, 3f, 4f});
        float[] hs = {1f, -1f};
        t.gradients(hs, new float[] {0f, 0f}, 1);
        // r = h + h W = [1,-1] + [1*1 + -1*3, 1*2 + -1*4] = [1 - 2, -1 - 2] = [-1, -3]; dL/dr = 2r/2 = [-1, -3]
        // dL/dh = dL/dr + dL/dr Wᵀ = [-1, -3] + [-1*1 + -3*2, -1*3 + -3*4] = [-1 - 7, -3 - 15] = [-8, -18]
        assertArrayEquals(new float[] {-8f, -18f}, t.inputGrad("h"), 1e-6f);
    }
}
