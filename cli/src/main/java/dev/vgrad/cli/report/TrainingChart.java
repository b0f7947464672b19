package dev.vgrad.cli.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** {@code training.png}: loss (left) and accuracy (right) per epoch for train and validation, drawn with XChart. */
public final class TrainingChart {
    private TrainingChart() {}

    private static final Color TRAIN = new Color(0x1f77b4), VAL = new Color(0xff7f0e);

    public static void write(Path file, String title, List<Epoch> epochs) {
        double[] x = new double[epochs.size()], trainLoss = new double[x.length], valLoss = new double[x.length];
        double[] trainAcc = new double[x.length], valAcc = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            Epoch e = epochs.get(i);
            x[i] = e.epoch();
            trainLoss[i] = e.trainLoss();
            valLoss[i] = e.valLoss();
            trainAcc[i] = 100 * e.trainAccuracy();
            valAcc[i] = 100 * e.valAccuracy();
        }
        XYChart loss = chart(title + ": loss", "loss");
        series(loss, "train", x, trainLoss, TRAIN);
        series(loss, "validation", x, valLoss, VAL);
        XYChart acc = chart(title + ": accuracy", "accuracy (%)");
        series(acc, "train", x, trainAcc, TRAIN);
        series(acc, "validation", x, valAcc, VAL);
        acc.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);

        BufferedImage left = BitmapEncoder.getBufferedImage(loss), right = BitmapEncoder.getBufferedImage(acc);
        BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth(), Math.max(left.getHeight(), right.getHeight()), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, both.getWidth(), both.getHeight());
        g.drawImage(left, 0, 0, null);
        g.drawImage(right, left.getWidth(), 0, null);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(both, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.write(file, png.toByteArray());
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        Styler s = c.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setLegendPosition(Styler.LegendPosition.InsideNE);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setChartTitleBoxVisible(false);
        s.setAntiAlias(true);
        c.getStyler().setDecimalPattern("#0.###");
        return c;
    }

    private static void series(XYChart c, String name, double[] x, double[] y, Color color) {
        XYSeries s = c.addSeries(name, x, y);
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setMarker(x.length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
    }
}
