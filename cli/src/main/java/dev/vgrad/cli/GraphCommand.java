package dev.vgrad.cli;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.report.AtomicFiles;
import dev.vgrad.compile.CompileOptions;
import dev.vgrad.compile.Compiler;
import dev.vgrad.compile.Plan;
import dev.vgrad.graph.Graph;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vgrad graph}: the compiled plan as Graphviz DOT (forward kernels, the loss, backward kernels
 * with the gradient each carries, fan-out sums, one cluster per layer), rendered to SVG or PNG by
 * Graphviz's {@code dot} when it is installed.
 */
@Command(name = "graph", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Draw the compiled graph, forward and backward, as Graphviz DOT (and SVG/PNG when Graphviz is installed).")
final class GraphCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "draw the graph of this model file (default: build one from the options below)")
    Path model;
    @Option(names = "--features", defaultValue = "64", description = "input features (default: ${DEFAULT-VALUE}, the digits)")
    int features;
    @Option(names = "--classes", defaultValue = "10", description = "classes (default: ${DEFAULT-VALUE})")
    int classes;
    @Option(names = "--layers", split = ",", defaultValue = "128,64", description = "hidden layer sizes (default: ${DEFAULT-VALUE})")
    int[] layers;
    @Option(names = "--activation", defaultValue = "relu", description = "relu, leaky-relu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    String activation;
    @Option(names = "--loss", defaultValue = "cross-entropy", description = "cross-entropy, mse or bce (default: ${DEFAULT-VALUE})")
    String loss;
    @Option(names = "--batch", defaultValue = "32", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--forward-only", description = "draw the inference plan (no loss, no backward pass)")
    boolean forwardOnly;
    @Option(names = "--no-fusion", description = "compile without kernel fusion (one box per op)")
    boolean noFusion;
    @Option(names = {"-o", "--out"}, defaultValue = "graph.dot", description = "DOT file to write (default: ${DEFAULT-VALUE})")
    Path out;
    @Option(names = "--format", defaultValue = "svg", description = "also render with Graphviz: svg, png or none (default: ${DEFAULT-VALUE})")
    String format;
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    /** Apt's command for Graphviz, printed when {@code dot} is missing. */
    static final String INSTALL = "sudo apt-get install -y graphviz";

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        if (!List.of("svg", "png", "none").contains(format)) throw new IllegalArgumentException("--format must be svg, png or none, got '" + format + "'");
        Graph graph;
        if (model != null) {
            graph = ModelFile.load(model).graph(batch);
        } else {
            Settings s = new Settings("digits", "last", 1f, classes, layers, activation, 0.01f, loss, "he-uniform", "adam", 0.003f, 0f, false, -1f,
                    0.9f, 0.999f, 1e-8f, batch, 1, 42, 1, 0.1, 0.2);
            graph = Classifier.graph(s, features, classes);
        }
        CompileOptions opt = (forwardOnly ? CompileOptions.inference() : CompileOptions.defaults()).withFusion(!noFusion);
        Plan plan = Compiler.compile(graph, opt);
        AtomicFiles.write(out, plan.toDot().getBytes(StandardCharsets.UTF_8));
        w.printf("wrote %s: %d steps (%d forward, %d backward), %d parameters in %d tensors%n", out, plan.steps().size(), plan.forwardSteps(),
                plan.steps().size() - plan.forwardSteps(), plan.paramsSize(), plan.params().size());
        if (!format.equals("none")) {
            Path image = sibling(out, format);
            String dot = findDot();
            if (dot == null) {
                w.printf("Graphviz's dot is not installed, so %s was not drawn; install it with:%n  %s%nthen: dot -T%s %s -o %s%n", image, INSTALL,
                        format, out, image);
            } else {
                render(dot, format, out, image);
                w.printf("wrote %s (Graphviz)%n", image);
            }
        }
        w.flush();
        return 0;
    }

    /** plan.dot -> plan.svg beside it. */
    static Path sibling(Path dotFile, String ext) {
        String name = dotFile.getFileName().toString();
        int i = name.lastIndexOf('.');
        return dotFile.resolveSibling((i > 0 ? name.substring(0, i) : name) + "." + ext);
    }

    /** The {@code dot} executable: the system property {@code vgrad.dot} when set (tests), else the first on the PATH; or null. */
    static String findDot() {
        String forced = System.getProperty("vgrad.dot");
        if (forced != null) return Files.isExecutable(Path.of(forced)) ? forced : null;
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, "dot");
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    /** dot -T{format} in -o tmp, then an atomic rename onto image; an error names the file and dot's message. */
    static void render(String dot, String format, Path in, Path image) {
        Path tmp = image.resolveSibling("." + image.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp");
        try {
            Process p = new ProcessBuilder(dot, "-T" + format, in.toString(), "-o", tmp.toString()).redirectErrorStream(true).start();
            String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("dot did not finish rendering " + in + " within 120 s");
            }
            if (p.exitValue() != 0) throw new IllegalStateException("dot failed on " + in + " (exit " + p.exitValue() + "): " + msg);
            Files.move(tmp, image, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot render " + image + " with " + dot + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while rendering " + image);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the image is either complete or absent
            }
        }
    }
}
