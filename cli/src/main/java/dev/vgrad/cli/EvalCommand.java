package dev.vgrad.cli;

import dev.vgrad.cli.data.CsvData;
import dev.vgrad.cli.data.DataSource;
import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.io.DataException;
import dev.vgrad.io.Dataset;
import dev.vgrad.train.Evaluation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code vgrad eval MODEL}: loss, accuracy and the confusion matrix on the model's test split or on given data. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a model file: loss, accuracy, confusion matrix.")
final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors written by vgrad train")
    Path model;
    @Option(names = "--data", description = "digits, fashion-mnist, a CSV file or an IDX folder (default: the data the model was trained on)")
    String data;
    @Option(names = "--part", defaultValue = "test", description = "with the training data: test, validation or train (default: ${DEFAULT-VALUE})")
    String part;
    @Option(names = "--label-column", defaultValue = "last", description = "CSV label column: last, first or a number from 1 (default: ${DEFAULT-VALUE})")
    String labelColumn;
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        ModelFile m = ModelFile.load(model);
        boolean trainedHere = m.metadata().containsKey(Settings.PREFIX + "data");
        if (!trainedHere && data == null) throw new IllegalArgumentException(model + " has no training settings: name the data with --data");
        Settings s = trainedHere ? Settings.fromModel(model, m) : null;
        Classifier clf = Classifier.of(model, m);
        Dataset d = dataset(m, s, clf);
        Evaluation.Result r = clf.evaluate(d);
        int correct = 0;
        for (int i = 0; i < r.confusion().length; i++) correct += r.confusion()[i][i];
        w.printf("%s on %s (%d samples)%n", model, d.name(), d.rows());
        w.printf("loss %.6f  accuracy %.2f%% (%d/%d)%n", r.loss(), 100 * r.accuracy(), correct, d.rows());
        w.println("confusion matrix (rows: true class, columns: predicted):");
        int k = clf.classes();
        StringBuilder head = new StringBuilder("      ");
        for (int j = 0; j < k; j++) head.append(String.format("%6d", j));
        w.println(head);
        for (int i = 0; i < k; i++) {
            StringBuilder row = new StringBuilder(String.format("%6d", i));
            for (int j = 0; j < k; j++) row.append(String.format("%6d", r.confusion()[i][j]));
            w.println(row);
        }
        w.flush();
        return 0;
    }

    private Dataset dataset(ModelFile m, Settings s, Classifier clf) {
        String spec = data == null ? s.data() : data;
        float scale = Float.parseFloat(m.meta("vgrad.input.scale", "1"));
        if (s != null && spec.equals(s.data())) {
            DataSource.Loaded loaded = DataSource.load(spec, CsvData.labelColumn(s.labelColumn()), s.scale(), s.classes());
            check(loaded.features(), clf, spec);
            TrainCommand.Parts p = TrainCommand.split(loaded, s);
            return switch (part) {
                case "test" -> p.test();
                case "validation" -> p.validation();
                case "train" -> p.train();
                default -> throw new IllegalArgumentException("--part must be test, validation or train, got '" + part + "'");
            };
        }
        DataSource.Loaded loaded = DataSource.load(spec, CsvData.labelColumn(labelColumn), scale, clf.classes());
        check(loaded.features(), clf, spec);
        if (loaded.classes() > clf.classes()) throw new DataException(spec + ": labels go up to " + (loaded.classes() - 1) + ", the model has " + clf.classes() + " classes");
        return loaded.all() != null ? loaded.all() : loaded.test();
    }

    private static void check(int features, Classifier clf, String spec) {
        if (features != clf.features()) {
            throw new DataException(spec + ": samples have " + features + " features, the model takes " + clf.features());
        }
    }
}
