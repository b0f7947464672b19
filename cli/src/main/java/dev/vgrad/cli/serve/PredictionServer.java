package dev.vgrad.cli.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.vgrad.runtime.Predictor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves a {@link Predictor} over HTTP with the JDK's built-in server (com.sun.net.httpserver): the
 * "embed it in a service" example. {@code POST /predict} takes one row of comma-separated raw feature values
 * per line (divided by {@code inputScale}, as {@code vgrad train} scaled them) and answers one JSON object
 * per row, {@code {"class":3,"outputs":[...]}} (outputs: the model's, e.g. logits); {@code GET /} describes
 * the model. All request threads share the one predictor; a bad request gets a 400 naming the row and column.
 */
public final class PredictionServer implements AutoCloseable {
    /** The largest request body read, in bytes. */
    static final int MAX_BODY = 4 << 20;

    private final HttpServer http;
    private final ExecutorService threads;
    private final Predictor predictor;
    private final float inputScale;

    private PredictionServer(HttpServer http, ExecutorService threads, Predictor predictor, float inputScale) {
        this.http = http;
        this.threads = threads;
        this.predictor = predictor;
        this.inputScale = inputScale;
    }

    /**
     * Starts serving {@code predictor} at {@code address} (port 0: any free port) with {@code threads} request
     * threads; raw inputs are divided by {@code inputScale}.
     */
    public static PredictionServer start(Predictor predictor, float inputScale, InetSocketAddress address, int threads) throws IOException {
        if (!(inputScale > 0) || Float.isInfinite(inputScale)) throw new IllegalArgumentException("input scale must be positive, got " + inputScale);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        HttpServer http = HttpServer.create(address, 0);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        PredictionServer s = new PredictionServer(http, pool, predictor, inputScale);
        http.createContext("/predict", s::predict);
        http.createContext("/", s::describe);
        http.setExecutor(pool);
        http.start();
        return s;
    }

    /** The port it listens on. */
    public int port() { return http.getAddress().getPort(); }

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
    }

    private void describe(HttpExchange ex) throws IOException {
        reply(ex, 200, "{\"inputs\":" + predictor.inputs() + ",\"outputs\":" + predictor.outputs() + ",\"inputScale\":" + inputScale + "}\n");
    }

    private void predict(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            reply(ex, 405, error("POST rows of comma-separated floats, one row per line"));
            return;
        }
        String body;
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                reply(ex, 413, error("request body over " + MAX_BODY + " bytes"));
                return;
            }
            body = new String(bytes, StandardCharsets.UTF_8);
        }
        String[] lines = body.strip().split("\\R");
        int features = predictor.inputs(), outputs = predictor.outputs(), rows = lines.length;
        float[] x = new float[rows * features];
        float[] y = new float[rows * outputs];
        try {
            for (int r = 0; r < rows; r++) {
                String[] cells = lines[r].split(",");
                if (cells.length != features) {
                    throw new IllegalArgumentException("row " + (r + 1) + " has " + cells.length + " values, the model takes " + features);
                }
                for (int c = 0; c < features; c++) {
                    try {
                        x[r * features + c] = Float.parseFloat(cells[c].strip()) / inputScale;
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("row " + (r + 1) + ", column " + (c + 1) + ": '" + cells[c].strip() + "' is not a number");
                    }
                }
            }
            predictor.predict(x, rows, y); // checks the values (finite, with Options.checkFinite) before any work
        } catch (IllegalArgumentException e) {
            reply(ex, 400, error(e.getMessage()));
            return;
        }
        StringBuilder out = new StringBuilder(rows * (outputs * 12 + 24));
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < outputs; j++) if (y[r * outputs + j] > y[r * outputs + best]) best = j;
            out.append("{\"class\":").append(best).append(",\"outputs\":[");
            for (int j = 0; j < outputs; j++) out.append(j == 0 ? "" : ",").append(y[r * outputs + j]);
            out.append("]}\n");
        }
        reply(ex, 200, out.toString());
    }

    private static String error(String message) {
        return "{\"error\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}\n";
    }

    private static void reply(HttpExchange ex, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(bytes);
        }
    }
}
