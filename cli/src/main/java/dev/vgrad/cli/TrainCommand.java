package dev.vgrad.cli;

import dev.vgrad.cli.data.CsvData;
import dev.vgrad.cli.data.DataSource;
import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.cli.model.SafeTensors;
import dev.vgrad.cli.report.Charts;
import dev.vgrad.cli.report.Epoch;
import dev.vgrad.cli.report.LayersCsv;
import dev.vgrad.cli.report.MetricsCsv;
import dev.vgrad.cli.report.Progress;
import dev.vgrad.cli.report.TrainingChart;
import dev.vgrad.graph.Graph;
import dev.vgrad.io.Dataset;
import dev.vgrad.kernel.Simd;
import dev.vgrad.train.DivergenceException;
import dev.vgrad.train.DivergenceGuard;
import dev.vgrad.train.Evaluation;
import dev.vgrad.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vgrad train}: trains an MLP classifier, shows a live bar and a row per epoch, and writes
 * {@code model.safetensors}, {@code checkpoint.safetensors} (every epoch), {@code metrics.csv} and
 * {@code training.png} into the output folder.
 */
@Command(name = "train", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Train an MLP classifier (default: the embedded digits, in seconds).")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "DATA", defaultValue = "digits", description = "digits, fashion-mnist, a CSV file or a folder of MNIST-style IDX files (default: ${DEFAULT-VALUE})")
    String data;
    @Option(names = "--label-column", paramLabel = "COLUMN", defaultValue = "last", description = "CSV label column: last, first or a number from 1 (default: ${DEFAULT-VALUE})")
    String labelColumn;
    @Option(names = "--scale", defaultValue = "0", description = "CSV: divide features by this (default: the largest absolute value)")
    float scale;
    @Option(names = "--classes", defaultValue = "0", description = "CSV: number of classes (default: largest label + 1)")
    int classes;
    @Option(names = "--layers", paramLabel = "N", split = ",", defaultValue = "128,64", description = "hidden layer sizes (default: ${DEFAULT-VALUE})")
    int[] layers;
    @Option(names = "--activation", paramLabel = "NAME", defaultValue = "relu", description = "relu, leaky-relu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    String activation;
    @Option(names = "--alpha", defaultValue = "0.01", description = "leaky-relu slope (default: ${DEFAULT-VALUE})")
    float alpha;
    @Option(names = "--loss", paramLabel = "NAME", defaultValue = "cross-entropy", description = "cross-entropy, mse or bce (on one-hot targets) (default: ${DEFAULT-VALUE})")
    String loss;
    @Option(names = "--init", paramLabel = "NAME", defaultValue = "he-uniform", description = "he-uniform, he-normal, glorot-uniform, glorot-normal (default: ${DEFAULT-VALUE})")
    String init;
    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam", description = "sgd, adam or adamw (default: ${DEFAULT-VALUE})")
    String optimizer;
    @Option(names = "--lr", defaultValue = "0.003", description = "learning rate (default: ${DEFAULT-VALUE})")
    float lr;
    @Option(names = "--momentum", defaultValue = "0", description = "sgd momentum (default: ${DEFAULT-VALUE})")
    float momentum;
    @Option(names = "--nesterov", description = "sgd: Nesterov momentum")
    boolean nesterov;
    @Option(names = "--weight-decay", defaultValue = "-1", description = "weight decay (default: 0, adamw 0.01)")
    float weightDecay;
    @Option(names = "--beta1", defaultValue = "0.9", description = "adam beta1 (default: ${DEFAULT-VALUE})")
    float beta1;
    @Option(names = "--beta2", defaultValue = "0.999", description = "adam beta2 (default: ${DEFAULT-VALUE})")
    float beta2;
    @Option(names = "--eps", defaultValue = "1e-8", description = "adam epsilon (default: ${DEFAULT-VALUE})")
    float eps;
    @Option(names = "--batch", defaultValue = "32", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--epochs", defaultValue = "20", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs;
    @Option(names = "--seed", defaultValue = "42", description = "seed of the split, the shuffles and the initial weights (default: ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--threads", defaultValue = "0", description = "threads the matrix products are split over; 0 = all available processors; results are bitwise the same for any count (default: ${DEFAULT-VALUE})")
    int threads;
    @Option(names = "--validation", defaultValue = "0.1", description = "fraction held out for validation (default: ${DEFAULT-VALUE})")
    double validation;
    @Option(names = "--test", defaultValue = "0.2", description = "fraction held out for the test (datasets without a test set) (default: ${DEFAULT-VALUE})")
    double test;
    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "output folder (default: runs/<data>)")
    Path out;
    @Option(names = "--resume", description = "continue from the output folder's checkpoint (settings from the checkpoint; --epochs may extend)")
    boolean resume;
    @Option(names = "--telemetry-every", defaultValue = "10", description = "sample per-layer gradient, weight and update norms and "
            + "activation statistics every N steps into layers.csv and gradients.png; 0 = off (default: ${DEFAULT-VALUE})")
    int telemetryEvery;
    @Option(names = "--on-divergence", defaultValue = "stop", description = "when the loss turns NaN/infinite or climbs: stop with a "
            + "message, or backoff (restore the last good state, halve the learning rate, go on) (default: ${DEFAULT-VALUE})")
    String onDivergence;
    @Option(names = "--no-progress", description = "no live progress bar")
    boolean noProgress;
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;
    @Option(names = "--describe", description = "print the compiled plan (steps, GEMM paths, buffers) and how each matrix product "
            + "splits over the threads, before training")
    boolean describe;
    @Option(names = "--profile", description = "time each step of the compiled plan and the optimizer update over the run's "
            + "training steps, and print where a step's time went (mean and fastest microseconds, GFLOPS, share)")
    boolean profile;
    @Option(names = "--stop-after", hidden = true, defaultValue = "0", description = "stop after this epoch's checkpoint, as if interrupted (tests)")
    int stopAfter;

    static final String MODEL = "model.safetensors", CHECKPOINT = "checkpoint.safetensors", METRICS = "metrics.csv", CHART = "training.png";
    static final String LAYERS = "layers.csv", GRADIENTS = "gradients.png";
    static final String EPOCH = "vgrad.checkpoint.epoch", UPDATES = "vgrad.checkpoint.updates", HISTORY = "vgrad.checkpoint.metrics";
    /** The learning rate the run had reached (lower than the settings' after a divergence backoff). */
    static final String RATE = "vgrad.checkpoint.lr";
    /** Steps run: more than the updates once a backoff has rewound them (telemetry and snapshots number steps). */
    static final String STEPS = "vgrad.checkpoint.steps";
    static final String TEST_ACCURACY = "vgrad.test.accuracy", TEST_LOSS = "vgrad.test.loss";

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        Path dir = out != null ? out : Path.of("runs", safeName(data));
        Settings s;
        ModelFile checkpoint = null;
        if (resume) {
            Path cp = dir.resolve(CHECKPOINT);
            if (!Files.exists(cp)) throw new ModelFileException(cp, "no such file: nothing to resume (train without --resume first)");
            checkpoint = ModelFile.loadWithExtras(cp);
            s = Settings.fromModel(cp, checkpoint);
            if (spec.commandLine().getParseResult().hasMatchedOption("--epochs")) s = s.withEpochs(epochs);
            List<String> ignored = new ArrayList<>();
            for (var o : spec.commandLine().getParseResult().matchedOptions()) {
                String n = o.longestName();
                if (!List.of("--epochs", "--out", "--resume", "--no-progress", "--verbose", "--describe", "--profile", "--stop-after", "--telemetry-every",
                        "--on-divergence", "--threads")
                        .contains(n)) ignored.add(n);
            }
            if (!ignored.isEmpty()) {
                spec.commandLine().getOut().println("note: --resume takes the settings from the checkpoint; ignoring " + String.join(" ", ignored));
            }
        } else {
            s = new Settings(data, labelColumn, scale, classes, layers, activation, alpha, loss, init, optimizer, lr, momentum, nesterov,
                    weightDecay, beta1, beta2, eps, batch, epochs, seed, resolvedThreads(), validation, test);
        }
        s.toOptimizer(); // reject bad optimizer settings before any work
        if (telemetryEvery < 0) throw new IllegalArgumentException("--telemetry-every must be >= 0 (0 = off), got " + telemetryEvery);
        DivergenceGuard.Mode divergenceMode = switch (onDivergence) {
            case "stop" -> DivergenceGuard.Mode.STOP;
            case "backoff" -> DivergenceGuard.Mode.BACKOFF;
            default -> throw new IllegalArgumentException("--on-divergence must be stop or backoff, got '" + onDivergence + "'");
        };

        // data: loaded and checked in full before anything is written
        DataSource.Loaded loaded = DataSource.load(s.data(), CsvData.labelColumn(s.labelColumn()), s.scale(), s.classes());
        s = s.withScaleAndClasses(loaded.scale(), loaded.classes());
        Parts parts = split(loaded, s);
        Graph graph = Classifier.graph(s, loaded.features(), loaded.classes());
        Trainer trainer = new Trainer(graph, s.toOptimizer(), s.seed());
        trainer.setThreads(resolvedThreads());
        Classifier clf = new Classifier(trainer);
        List<Epoch> history = new ArrayList<>();
        int done = 0;
        if (checkpoint != null) {
            if (!checkpoint.graph().describe().equals(graph.describe())) {
                throw new ModelFileException(dir.resolve(CHECKPOINT), "its graph differs from the one its settings build");
            }
            done = restore(dir.resolve(CHECKPOINT), checkpoint, trainer, history);
            if (done > s.epochs()) {
                throw new IllegalArgumentException("--epochs " + s.epochs() + " is below the epochs already trained: the checkpoint was saved after epoch "
                        + done + " (resume with --epochs " + done + " or more)");
            }
        }
        // telemetry to layers.csv (rows of a resumed run kept), warnings and backoff notes printed between epochs' rows
        LayersCsv layers = new LayersCsv();
        if (checkpoint != null) layers.keep(dir.resolve(LAYERS), trainer.steps());
        trainer.telemetry().setInterval(telemetryEvery).setListener(layers).setWarnings(m -> {
            w.println();
            w.println("warning: " + m);
            w.flush();
        });
        trainer.divergence().setMode(divergenceMode).setMessages(m -> {
            w.println();
            w.println("backoff: " + m);
            w.flush();
        });

        w.printf("vgrad train: %s, %d train / %d validation / %d test samples, %d features, %d classes%n", s.data(), parts.train.rows(),
                parts.validation.rows(), parts.test.rows(), loaded.features(), loaded.classes());
        w.printf("model: %s, %,d parameters, %s loss, %s lr %s, batch %d, seed %d, %d-bit vectors (%d floats), threads %d%n",
                s.describeNetwork(loaded.features(), loaded.classes()), trainer.plan().paramsSize(), s.loss(), s.optimizer(), s.lr(), s.batch(),
                s.seed(), Simd.FLOATS.vectorBitSize(), Simd.LANES, trainer.threads());
        if (done > 0) w.printf("resuming %s after epoch %d of %d%n", dir.resolve(CHECKPOINT), done, s.epochs());
        if (describe) w.print(trainer.describe());
        w.flush();

        Files2.createDirectories(dir);
        int width = Integer.toString(s.epochs()).length();
        long startAll = System.nanoTime();
        if (profile) trainer.startProfile();
        long trainedSamples = 0;
        double trainNanos = 0;
        for (int epoch = done + 1; epoch <= s.epochs(); epoch++) {
            long t0 = System.nanoTime();
            Dataset shuffled = parts.train.shuffled(s.seed() + epoch);
            double lossSum = 0;
            String task = String.format("epoch %" + width + "d/%d", epoch, s.epochs());
            layers.epoch(epoch);
            try (Progress bar = noProgress ? null : new Progress(w, task, shuffled.rows())) {
                for (int from = 0; from < shuffled.rows(); from += s.batch()) {
                    int rows = Math.min(s.batch(), shuffled.rows() - from);
                    lossSum += clf.step(shuffled, from, rows) * rows;
                    if (bar != null) bar.step(rows, lossSum / (from + rows));
                }
            } catch (DivergenceException e) {
                // what the run learned about itself is kept: metrics so far, the per-layer telemetry and its picture
                if (!history.isEmpty()) MetricsCsv.write(dir.resolve(METRICS), history);
                writeTelemetry(dir, s, layers);
                spec.commandLine().getErr().println("vgrad train: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
            long t1 = System.nanoTime();
            trainNanos += t1 - t0;
            trainedSamples += shuffled.rows();
            Evaluation.Result tr = clf.evaluate(parts.train), val = clf.evaluate(parts.validation);
            double secs = (System.nanoTime() - t0) / 1e9;
            Epoch e = new Epoch(epoch, lossSum / shuffled.rows(), tr.accuracy(), val.loss(), val.accuracy(), secs, shuffled.rows() / ((t1 - t0) / 1e9));
            history.add(e);
            w.printf("epoch %" + width + "d/%d  train loss %.4f  acc %6.2f%%  |  val loss %.4f  acc %6.2f%%  |  %5.2f s  %,9.0f samples/s%n",
                    epoch, s.epochs(), e.trainLoss(), 100 * e.trainAccuracy(), e.valLoss(), 100 * e.valAccuracy(), secs, e.samplesPerSecond());
            w.flush();
            saveCheckpoint(dir.resolve(CHECKPOINT), trainer, s, epoch, history);
            MetricsCsv.write(dir.resolve(METRICS), history);
            if (telemetryEvery > 0) layers.write(dir.resolve(LAYERS));
            if (epoch == stopAfter && epoch < s.epochs()) {
                TrainingChart.write(dir.resolve(CHART), s.data(), history);
                writeTelemetry(dir, s, layers);
                if (profile) w.print(trainer.stopProfile().describe());
                w.printf("stopped after epoch %d; continue with: vgrad train --out %s --resume%n", epoch, dir);
                return 0;
            }
        }
        Evaluation.Result t = clf.evaluate(parts.test);
        double total = (System.nanoTime() - startAll) / 1e9;
        int correct = (int) Math.round(t.accuracy() * parts.test.rows());
        w.printf("test loss %.6f  accuracy %.2f%% (%d/%d)%n", t.loss(), 100 * t.accuracy(), correct, parts.test.rows());
        w.printf("total %.2f s, training throughput %,.0f samples/s%n", total, trainNanos == 0 ? 0 : trainedSamples / (trainNanos / 1e9));
        if (profile) w.print(trainer.stopProfile().describe());
        Map<String, String> meta = new LinkedHashMap<>(s.toMetadata());
        meta.put("vgrad.input.scale", Float.toString(s.scale()));
        meta.put(TEST_ACCURACY, Double.toString(t.accuracy()));
        meta.put(TEST_LOSS, Double.toString(t.loss()));
        ModelFile.save(dir.resolve(MODEL), trainer, meta);
        MetricsCsv.write(dir.resolve(METRICS), history);
        TrainingChart.write(dir.resolve(CHART), s.data(), history);
        writeTelemetry(dir, s, layers);
        w.printf("wrote %s, %s, %s, %s%n", dir.resolve(MODEL), dir.resolve(METRICS), dir.resolve(CHART), dir.resolve(CHECKPOINT));
        if (telemetryEvery > 0) w.printf("wrote %s, %s (per-layer telemetry every %d steps)%n", dir.resolve(LAYERS), dir.resolve(GRADIENTS), telemetryEvery);
        if (trainer.divergence().backoffs() > 0) {
            w.printf("note: the loss diverged %d time(s); training finished at learning rate %s (started at %s)%n", trainer.divergence().backoffs(),
                    trainer.learningRate(), s.lr());
        }
        w.flush();
        return 0;
    }

    /** layers.csv and gradients.png, when telemetry is on. */
    static void writeTelemetry(Path dir, Settings s, LayersCsv layers) {
        if (layers.rows().isEmpty()) return;
        layers.write(dir.resolve(LAYERS));
        Charts.gradients(dir.resolve(GRADIENTS), s.data(), layers.rows());
    }

    /** Train, validation and test parts: a seeded split, or the dataset's own test set. */
    record Parts(Dataset train, Dataset validation, Dataset test) {}

    static Parts split(DataSource.Loaded d, Settings s) {
        if (d.all() != null) {
            Dataset.Split sp = d.all().split(s.validation(), s.test(), s.seed());
            if (sp.train().rows() == 0 || sp.validation().rows() == 0 || sp.test().rows() == 0) {
                throw new IllegalArgumentException(d.spec() + ": " + d.all().rows() + " rows are too few to split into train, validation and test");
            }
            return new Parts(sp.train(), sp.validation(), sp.test());
        }
        Dataset.Split sp = d.train().split(s.validation(), 0, s.seed());
        return new Parts(sp.train(), sp.validation(), d.test());
    }

    /** Parameters, optimizer state, updates and history: everything a resumed run needs to equal an uninterrupted one. */
    static void saveCheckpoint(Path file, Trainer t, Settings s, int epoch, List<Epoch> history) {
        Map<String, String> meta = new LinkedHashMap<>(s.toMetadata());
        meta.put(EPOCH, Integer.toString(epoch));
        meta.put(UPDATES, Long.toString(t.updates()));
        meta.put(RATE, Float.toString(t.learningRate()));
        meta.put(STEPS, Long.toString(t.steps()));
        meta.put(HISTORY, MetricsCsv.format(history));
        float[][] st = t.optimizerState();
        Map<String, float[]> params = new LinkedHashMap<>();
        for (var slot : t.plan().params()) params.put(slot.name(), t.param(slot.name()));
        ModelFile.save(file, t.plan().graph(), params, meta, List.of(
                new SafeTensors.Tensor("optimizer.state1", new int[] {st[0].length}, st[0]),
                new SafeTensors.Tensor("optimizer.state2", new int[] {st[1].length}, st[1])));
    }

    /**
     * Puts a checkpoint's parameters, optimizer state, counters, rate and history into {@code t} and {@code history}; returns
     * the epochs done. Everything is checked first (a fault: {@link ModelFileException} naming {@code file}), so a refused
     * checkpoint leaves the trainer and history as they were.
     */
    static int restore(Path file, ModelFile cp, Trainer t, List<Epoch> history) {
        float[][] st = t.optimizerState();
        float[][] saved = new float[2][];
        for (int i = 0; i < 2; i++) {
            String name = "optimizer.state" + (i + 1);
            float[] v = cp.tensors().get(name);
            if (v == null || v.length != st[i].length) {
                throw new ModelFileException(file, "tensor '" + name + "' is " + (v == null ? "missing" : "of " + v.length + " floats")
                        + ": the optimizer state needs " + st[i].length);
            }
            // ModelFile.loadWithExtras checks this too; a ModelFile built in memory has not been through it
            for (int j = 0; j < v.length; j++) {
                if (!Float.isFinite(v[j])) throw new ModelFileException(file, "tensor '" + name + "' has a non-finite value " + v[j] + " at element " + j);
            }
            saved[i] = v;
        }
        long updates, steps;
        float rate;
        int epoch;
        List<Epoch> epochs;
        try {
            updates = Long.parseLong(cp.meta(UPDATES, ""));
            String r = cp.meta(RATE, null); // absent in checkpoints written before it was kept: the settings' rate
            rate = r != null ? Float.parseFloat(r) : t.learningRate();
            String s = cp.meta(STEPS, null); // absent in older checkpoints: the updates, equal to the steps without backoffs
            steps = s != null ? Long.parseLong(s) : updates;
            epochs = MetricsCsv.parse(cp.meta(HISTORY, ""));
            epoch = Integer.parseInt(cp.meta(EPOCH, ""));
            if (updates < 0 || steps < 0) throw new IllegalArgumentException("negative " + UPDATES + " or " + STEPS);
            t.optimizer().withLearningRate(rate); // refuses a rate the optimizer would not take
        } catch (RuntimeException e) {
            throw new ModelFileException(file, "metadata " + UPDATES + "/" + EPOCH + "/" + HISTORY + "/" + RATE + "/" + STEPS + " is malformed: "
                    + e.getMessage());
        }
        // all checked: now apply (copyInto checks every parameter before copying any)
        cp.copyInto(t);
        for (int i = 0; i < 2; i++) System.arraycopy(saved[i], 0, st[i], 0, saved[i].length);
        t.setUpdates(updates);
        t.setLearningRate(rate);
        t.setSteps(steps);
        history.addAll(epochs);
        return epoch;
    }

    static String safeName(String data) {
        String n = Path.of(data).getFileName() == null ? data : Path.of(data).getFileName().toString();
        n = n.replaceAll("\\.(csv|gz)$", "").replaceAll("\\.(csv|gz)$", "");
        return n.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** createDirectories with an unchecked error that names the folder. */
    static final class Files2 {
        static void createDirectories(Path dir) {
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot create the output folder " + dir + ": " + e, e);
            }
        }
    }

    /** --threads, with 0 meaning every available processor. */
    private int resolvedThreads() {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0 (0 = all processors), got " + threads);
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
