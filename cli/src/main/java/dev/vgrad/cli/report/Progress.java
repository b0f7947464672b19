package dev.vgrad.cli.report;

import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The live per-epoch bar (me.tongfei:progressbar): samples done, samples/s and the running loss, redrawn
 * in place with a carriage return on the command's own output (a terminal or a pipe such as Maven's).
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    public Progress(PrintWriter out, String task, long samples) {
        this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(samples).setUnit(" samples", 1).showSpeed()
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(100).setConsumer(new Line(out, width())).build();
    }

    /** Marks {@code samples} more done with the running mean loss. */
    public void step(long samples, double runningLoss) {
        bar.stepBy(samples);
        bar.setExtraMessage(String.format(" | loss %.4f", runningLoss));
    }

    @Override
    public void close() { bar.close(); }

    private static int width() {
        try {
            int c = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100"));
            return Math.max(60, Math.min(c - 1, 140));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    /** Writes the bar after a carriage return; a newline when done. No terminal probing, so no warnings in pipes. */
    private record Line(PrintWriter out, int width) implements ProgressBarConsumer {
        @Override public int getMaxRenderedLength() { return width; }

        @Override
        public void accept(String rendered) {
            synchronized (out) {
                out.print('\r');
                out.print(rendered);
                out.flush();
            }
        }

        @Override
        public void close() {
            synchronized (out) {
                out.println();
                out.flush();
            }
        }
    }
}
