package dev.vgrad.cli.report;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The backpropagation pictures, drawn with XChart: {@code gradients.png} (gradient norm per layer over
 * training, log scale), the vanishing demo's per-layer gradients and the learning-rate demo's loss curves.
 */
public final class Charts {
    private Charts() {}

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)};

    /** gradients.png: one line per layer, gradient norm against step, log y. Zero norms (dead layers) are left out. */
    public static void gradients(Path file, String title, List<LayersCsv.Row> rows) {
        Map<String, List<double[]>> byLayer = new LinkedHashMap<>();
        for (LayersCsv.Row r : rows) {
            byLayer.computeIfAbsent(r.layer(), k -> new ArrayList<>());
            if (r.gradNorm() > 0 && Double.isFinite(r.gradNorm())) byLayer.get(r.layer()).add(new double[] {r.step(), r.gradNorm()});
        }
        XYChart c = xy(title + ": gradient norm per layer", "step", "‖∂L/∂θ‖ (log scale)");
        c.getStyler().setYAxisLogarithmic(true);
        int i = 0;
        for (Map.Entry<String, List<double[]>> e : byLayer.entrySet()) {
            List<double[]> pts = e.getValue();
            if (pts.isEmpty()) continue;
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int k = 0; k < x.length; k++) {
                x[k] = pts.get(k)[0];
                y[k] = pts.get(k)[1];
            }
            line(c, e.getKey(), x, y, PALETTE[i++ % PALETTE.length]);
        }
        if (i == 0) line(c, "no samples", new double[] {0}, new double[] {1}, Color.GRAY);
        png(file, c);
    }

    /**
     * The vanishing demo: per-layer gradient norm at step 0 (left) and after training (right), one line per
     * variant against the layer number (1 = nearest the input), log y. A zero gradient is left out.
     */
    public static void vanishing(Path file, List<String> layers, List<String> variants, double[][] start, double[][] end) {
        png(file, perLayer("step 0: gradient norm per layer", layers, variants, start),
                perLayer("after training: gradient norm per layer", layers, variants, end));
    }

    private static XYChart perLayer(String title, List<String> layers, List<String> variants, double[][] values) {
        XYChart c = new XYChartBuilder().width(640).height(440).title(title).xAxisTitle("layer (" + String.join(", ", layers) + "; input -> output)")
                .yAxisTitle("‖∂L/∂θ‖ (log scale)").build();
        style(c.getStyler());
        c.getStyler().setYAxisLogarithmic(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setXAxisDecimalPattern("0");
        for (int v = 0; v < variants.size(); v++) {
            List<double[]> pts = new ArrayList<>();
            for (int l = 0; l < values[v].length; l++) if (values[v][l] > 0 && Double.isFinite(values[v][l])) pts.add(new double[] {l + 1, values[v][l]});
            if (pts.isEmpty()) continue;
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int k = 0; k < x.length; k++) {
                x[k] = pts.get(k)[0];
                y[k] = pts.get(k)[1];
            }
            XYSeries sr = c.addSeries(variants.get(v), x, y);
            sr.setLineColor(PALETTE[v % PALETTE.length]);
            sr.setMarkerColor(PALETTE[v % PALETTE.length]);
            sr.setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    /** The learning-rate demo: one loss curve per rate (log y), a diverged curve ending where it was stopped. */
    public static void lossCurves(Path file, String title, List<String> names, List<double[]> losses) {
        XYChart c = xy(title, "step", "training loss (log scale)");
        c.getStyler().setYAxisLogarithmic(true);
        for (int i = 0; i < names.size(); i++) {
            double[] l = losses.get(i);
            List<double[]> pts = new ArrayList<>();
            for (int s = 0; s < l.length; s++) if (l[s] > 0 && Double.isFinite(l[s])) pts.add(new double[] {s, l[s]});
            double[] x = new double[pts.size()], y = new double[pts.size()];
            for (int k = 0; k < x.length; k++) {
                x[k] = pts.get(k)[0];
                y[k] = pts.get(k)[1];
            }
            if (x.length > 0) line(c, names.get(i), x, y, PALETTE[i % PALETTE.length]);
        }
        png(file, c);
    }

    private static XYChart xy(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(900).height(520).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        style(c.getStyler());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setXAxisTickMarkSpacingHint(120);
        return c;
    }

    private static void style(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setLegendBorderColor(Color.LIGHT_GRAY);
        s.setChartTitleBoxVisible(false);
        s.setAntiAlias(true);
    }

    private static void line(XYChart c, String name, double[] x, double[] y, Color color) {
        XYSeries s = c.addSeries(name, x, y);
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setMarker(x.length > 40 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
    }

    /** Charts side by side in one PNG, written atomically. */
    static void png(Path file, Chart<?, ?>... charts) {
        List<BufferedImage> images = new ArrayList<>();
        int w = 0, h = 0;
        for (Chart<?, ?> c : charts) {
            BufferedImage im = BitmapEncoder.getBufferedImage(c);
            images.add(im);
            w += im.getWidth();
            h = Math.max(h, im.getHeight());
        }
        BufferedImage all = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int x = 0;
        for (BufferedImage im : images) {
            g.drawImage(im, x, 0, null);
            x += im.getWidth();
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(all, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.write(file, out.toByteArray());
    }
}
