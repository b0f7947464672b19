package dev.vgrad.cli;

import dev.vgrad.cli.serve.PredictionServer;
import dev.vgrad.cli.serve.Predictors;
import dev.vgrad.runtime.Predictor;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vgrad serve MODEL}: loads a model file, warms it up and serves predictions over HTTP until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Serve a model over HTTP: POST /predict with CSV rows (raw feature values), one JSON line per row.")
final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors written by vgrad train")
    Path model;
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    String host;
    @Option(names = "--port", defaultValue = "8080", description = "port, 0 for any free one (default: ${DEFAULT-VALUE})")
    int port;
    @Option(names = "--threads", defaultValue = "4", description = "request threads sharing the one predictor (default: ${DEFAULT-VALUE})")
    int threads;
    @Option(names = "--bf16", description = "bfloat16 weights: half the memory traffic, ~3 significant digits")
    boolean bf16;
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        PrintWriter w = spec.commandLine().getOut();
        Predictor p = Predictors.load(model, Predictor.Options.defaults().withCheckFinite(true).withBf16Weights(bf16));
        Predictor.Warmup warm = p.warmup();
        try (PredictionServer s = PredictionServer.start(p, Predictors.inputScale(model), new InetSocketAddress(host, port), threads)) {
            w.printf("serving %s (%d -> %d, %s weights) at http://%s:%d/predict; %s%n", model, p.inputs(), p.outputs(),
                    bf16 ? "bf16" : "float32", host, s.port(), warm);
            w.flush();
            Thread.currentThread().join(); // until the process is stopped
        }
        return 0;
    }
}
