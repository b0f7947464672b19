package dev.vgrad.cli.report;

/** One epoch's figures, as printed, written to {@code metrics.csv} and drawn in {@code training.png}. */
public record Epoch(int epoch, double trainLoss, double trainAccuracy, double valLoss, double valAccuracy, double seconds, double samplesPerSecond) {

    /** Column names of {@code metrics.csv}, in order. */
    public static final String[] COLUMNS = {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_second"};

    /** The values in {@link #COLUMNS} order, exact (Double.toString), as metrics.csv and checkpoints keep them. */
    public String[] cells() {
        return new String[] {Integer.toString(epoch), Double.toString(trainLoss), Double.toString(trainAccuracy), Double.toString(valLoss),
                Double.toString(valAccuracy), Double.toString(seconds), Double.toString(samplesPerSecond)};
    }

    public static Epoch parse(String[] c) {
        return new Epoch(Integer.parseInt(c[0]), Double.parseDouble(c[1]), Double.parseDouble(c[2]), Double.parseDouble(c[3]),
                Double.parseDouble(c[4]), Double.parseDouble(c[5]), Double.parseDouble(c[6]));
    }
}
