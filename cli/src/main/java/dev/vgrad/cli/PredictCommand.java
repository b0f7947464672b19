package dev.vgrad.cli;

import dev.vgrad.cli.data.CsvData;
import dev.vgrad.cli.data.DataSource;
import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.train.Evaluation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code vgrad predict MODEL INPUT}: prints CSV to stdout, one line per sample: its row (CSV line, or IDX
 * image index from 0), the predicted class, its probability, then the probability of every class.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Predict classes for CSV rows or IDX images; prints CSV (row, class, confidence, p0..pK).")
final class PredictCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors written by vgrad train")
    Path model;
    @Parameters(index = "1", paramLabel = "INPUT", description = "a CSV file (features, optionally a label column) or an IDX images file")
    Path input;
    @Option(names = "--label-column", defaultValue = "last", description = "CSV: where a label column sits when rows have one more cell than features (default: ${DEFAULT-VALUE})")
    String labelColumn;
    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        ModelFile m = ModelFile.load(model);
        float scale = Float.parseFloat(m.meta("vgrad.input.scale", "1"));
        Classifier clf = Classifier.of(model, m);
        DataSource.Inputs in = DataSource.inputs(input, clf.features(), scale, CsvData.labelColumn(labelColumn));
        int k = clf.classes(), b = clf.trainer().batch();
        StringBuilder head = new StringBuilder(in.idx() ? "image" : "line");
        if (in.labels() != null) head.append(",label");
        head.append(",class,confidence");
        for (int j = 0; j < k; j++) head.append(",p").append(j);
        w.println(head);
        float[] probs = new float[b * k];
        for (int from = 0; from < in.rows(); from += b) {
            int rows = Math.min(b, in.rows() - from);
            clf.predict(in.x(), from, rows, probs);
            for (int i = 0; i < rows; i++) {
                int r = from + i, c = Evaluation.argmax(probs, i * k, k);
                StringBuilder line = new StringBuilder().append(in.idx() ? Long.toString(r) : Long.toString(in.lines()[r]));
                if (in.labels() != null) line.append(',').append(in.labels()[r]);
                line.append(',').append(c).append(',').append(String.format("%.6f", probs[i * k + c]));
                for (int j = 0; j < k; j++) line.append(',').append(String.format("%.6f", probs[i * k + j]));
                w.println(line);
            }
        }
        w.flush();
        return 0;
    }
}
