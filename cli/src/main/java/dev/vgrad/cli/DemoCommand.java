package dev.vgrad.cli;

import dev.vgrad.cli.report.Charts;
import dev.vgrad.train.demo.LearningRateDemo;
import dev.vgrad.train.demo.VanishingDemo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vgrad demo}: backpropagation made visible on small models. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Backpropagation demos: vanishing gradients, learning rates.",
        subcommands = {DemoCommand.Vanishing.class, DemoCommand.LearningRate.class})
final class DemoCommand implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    /** {@code vgrad demo vanishing}: per-layer gradients of the 5 x (dense(1) + sigmoid) network, then ReLU/He and tanh. */
    @Command(name = "vanishing", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Five layers of one sigmoid unit: the gradient at every layer at step 0 and after training, "
                    + "then the same with ReLU/He initialisation and with tanh; writes vanishing.png.")
    static final class Vanishing implements Runnable {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--steps", defaultValue = "2000", description = "training steps per variant (default: ${DEFAULT-VALUE})")
        int steps;
        @Option(names = "--seed", defaultValue = "1", description = "seed of the initial weights (default: ${DEFAULT-VALUE})")
        long seed;
        @Option(names = {"-o", "--out"}, defaultValue = "runs/demo", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;
        @Option(names = "--verbose", description = "stack traces on errors")
        boolean verbose;

        @Override
        public void run() {
            if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
            PrintWriter w = spec.commandLine().getOut();
            w.println("vanishing gradients: x -> [dense(1) + activation] x 5 -> mse, on x in [-1, 1] -> 0.2 (x < 0) / 0.8 (x > 0), SGD");
            w.flush();
            List<VanishingDemo.Result> results = VanishingDemo.runAll(steps, seed);
            w.print(VanishingDemo.report(results));
            VanishingDemo.Result sig = results.get(0);
            w.printf(Locale.ROOT, "sigmoid: the first layer gets %.2g of the last layer's gradient at step 0 (sigma' <= 1/4 per layer); "
                    + "relu-he: %.2g; tanh: %.2g%n", sig.startRatio(0), results.get(1).startRatio(0), results.get(2).startRatio(0));
            List<String> variants = new ArrayList<>();
            double[][] start = new double[results.size()][], end = new double[results.size()][];
            for (int i = 0; i < results.size(); i++) {
                variants.add(results.get(i).variant().id() + " (lr " + results.get(i).learningRate() + ")");
                start[i] = results.get(i).gradStart();
                end[i] = results.get(i).gradEnd();
            }
            Path png = out.resolve("vanishing.png");
            Charts.vanishing(png, sig.layers(), variants, start, end);
            w.printf("wrote %s%n", png);
            w.flush();
        }
    }

    /** {@code vgrad demo learning-rate}: one model at a too-small, a good and a too-high learning rate. */
    @Command(name = "learning-rate", mixinStandardHelpOptions = true, sortOptions = false,
            description = "One digits MLP trained with SGD at a too-small, a good and a too-high learning rate; writes learning-rate.png.")
    static final class LearningRate implements Runnable {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--epochs", defaultValue = "5", description = "epochs per rate (default: ${DEFAULT-VALUE})")
        int epochs;
        @Option(names = "--seed", defaultValue = "1", description = "seed (default: ${DEFAULT-VALUE})")
        long seed;
        @Option(names = {"-o", "--out"}, defaultValue = "runs/demo", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;
        @Option(names = "--verbose", description = "stack traces on errors")
        boolean verbose;

        @Override
        public void run() {
            if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
            PrintWriter w = spec.commandLine().getOut();
            w.printf("learning rates: a 64-32-10 ReLU MLP on the digits, SGD, batch %d, %d epochs at lr %s%n", LearningRateDemo.BATCH, epochs,
                    java.util.Arrays.toString(LearningRateDemo.RATES));
            w.flush();
            List<LearningRateDemo.Curve> curves = LearningRateDemo.runAll(epochs, seed);
            w.print(LearningRateDemo.summary(curves));
            for (LearningRateDemo.Curve c : curves) if (c.message() != null) w.println("  " + c.message());
            List<String> names = new ArrayList<>();
            List<double[]> losses = new ArrayList<>();
            for (LearningRateDemo.Curve c : curves) {
                names.add("lr " + c.learningRate() + " (" + c.name() + (c.diverged() >= 0 ? ", stopped at step " + c.diverged() : "") + ")");
                losses.add(c.losses());
            }
            Path png = out.resolve("learning-rate.png");
            Charts.lossCurves(png, "training loss at three learning rates", names, losses);
            w.printf("wrote %s%n", png);
            w.flush();
        }
    }
}
