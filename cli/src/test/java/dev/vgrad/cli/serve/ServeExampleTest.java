package dev.vgrad.cli.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.graph.Init;
import dev.vgrad.graph.Node;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.runtime.Predictor;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model file -> Predictor -> HTTP: bitwise the trained graph's outputs all the way. */
class ServeExampleTest {
    static final int BATCH = 16;
    static Dataset digits;
    static Trainer trainer;
    static float[] reference;
    @TempDir static Path dir;
    static Path file;

    @BeforeAll
    static void trainAndSave() {
        digits = Digits.load();
        GraphBuilder b = Graph.builder().defaultInit(Init.HE_UNIFORM);
        Node x = b.input("x", BATCH, 64);
        Node h = b.relu(b.dense("fc1", x, 80));
        b.softmaxCrossEntropy(b.dense("out", h, 10));
        trainer = new Trainer(b.build(), new Optimizer.Adam(1e-2f), 5);
        float[] xb = new float[BATCH * 64];
        int[] yb = new int[BATCH];
        for (int s = 0; s < 40; s++) {
            int from = s * BATCH % (digits.rows() - BATCH);
            System.arraycopy(digits.x(), from * 64, xb, 0, xb.length);
            System.arraycopy(digits.y(), from, yb, 0, BATCH);
            trainer.step(xb, yb);
        }
        reference = new float[digits.rows() * 10];
        float[] out = new float[BATCH * 10];
        for (int r = 0; r < digits.rows(); r += BATCH) {
            int n = Math.min(BATCH, digits.rows() - r);
            trainer.forward(Arrays.copyOfRange(digits.x(), r * 64, (r + n) * 64), n, out);
            System.arraycopy(out, 0, reference, r * 10, n * 10);
        }
        file = dir.resolve("model.safetensors");
        ModelFile.save(file, trainer, Map.of());
    }

    @Test
    void aPredictorLoadedFromAModelFileGivesBitwiseTheTrainedGraphsForwardPass() {
        Predictor p = Predictors.load(file);
        float[] y = new float[10];
        for (int r = 0; r < digits.rows(); r++) {
            p.predict(digits.x(), r * 64, y, 0);
            assertArrayEquals(Arrays.copyOfRange(reference, r * 10, r * 10 + 10), y, "row " + r);
        }
        float[] all = new float[digits.rows() * 10];
        p.predict(digits.x(), digits.rows(), all);
        assertArrayEquals(reference, all);
        // the two-line recipe is the same thing
        ModelFile m = ModelFile.load(file);
        Predictor q = Predictor.of(m.graph(), m.tensors());
        q.predict(digits.x(), digits.rows(), all);
        assertArrayEquals(reference, all);
        assertEquals(1f, Predictors.inputScale(file));
    }

    @Test
    void aCorruptModelFileFailsToLoadNamingTheFile() throws Exception {
        Path bad = dir.resolve("truncated.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(bad, Arrays.copyOf(bytes, bytes.length - 7));
        var e = assertThrows(ModelFileException.class, () -> Predictors.load(bad));
        assertTrue(e.getMessage().contains("truncated.safetensors"), e.getMessage());
    }

    @Test
    void theHttpExampleServesPredictionsOnALoopbackPort() throws Exception {
        Predictor p = Predictors.load(file, Predictor.Options.defaults().withCheckFinite(true));
        try (PredictionServer s = PredictionServer.start(p, 1f, new InetSocketAddress("127.0.0.1", 0), 2)) {
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + s.port());
            // three rows as CSV -> three JSON lines, bitwise the trained graph's outputs
            StringBuilder body = new StringBuilder();
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 64; c++) body.append(c == 0 ? "" : ",").append(digits.x()[r * 64 + c]);
                body.append('\n');
            }
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(base.resolve("/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            String[] lines = res.body().strip().split("\n");
            assertEquals(3, lines.length, res.body());
            Pattern json = Pattern.compile("\\{\"class\":(\\d+),\"outputs\":\\[([^]]*)]}");
            for (int r = 0; r < 3; r++) {
                Matcher m = json.matcher(lines[r]);
                assertTrue(m.matches(), lines[r]);
                float[] outputs = new float[10];
                String[] cells = m.group(2).split(",");
                for (int j = 0; j < 10; j++) outputs[j] = Float.parseFloat(cells[j]);
                float[] want = Arrays.copyOfRange(reference, r * 10, r * 10 + 10);
                assertArrayEquals(want, outputs, "row " + r);
                int best = 0;
                for (int j = 1; j < 10; j++) if (want[j] > want[best]) best = j;
                assertEquals(best, Integer.parseInt(m.group(1)));
            }
            // a bad row gets a 400 naming it; the server keeps serving
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(base.resolve("/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString("1,2,3\n")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body().contains("row 1 has 3 values, the model takes 64"), bad.body());
            String nan = body.toString().lines().findFirst().orElseThrow().replaceFirst("^[^,]*", "NaN");
            HttpResponse<String> nanRes = http.send(HttpRequest.newBuilder(base.resolve("/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(nan)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(400, nanRes.statusCode());
            assertTrue(nanRes.body().contains("non-finite value NaN at row 0, column 0"), nanRes.body());
            HttpResponse<String> info = http.send(HttpRequest.newBuilder(base).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("{\"inputs\":64,\"outputs\":10,\"inputScale\":1.0}", info.body().strip());
            HttpResponse<String> again = http.send(HttpRequest.newBuilder(base.resolve("/predict"))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(res.body(), again.body());
        }
    }
}
