package dev.vgrad.spark;

import dev.vgrad.io.Dataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/** Builds the partitions' {@link Shard}s: from an in-memory {@link Dataset}, a CSV file, or a Spark table (e.g. Parquet) with a label column. */
public final class Shards {
    private Shards() {}

    /**
     * The dataset cut into {@code parts} partitions of contiguous rows; global index = row number. The rows
     * travel once, as a broadcast each executor fetches; the partitions themselves are only their numbers.
     * (With {@code parallelize(shards)} every task of every step would carry its partition's rows: for 1,024
     * rows of 784 features, 3 MB serialized per task per step.)
     */
    public static JavaRDD<Shard> of(JavaSparkContext sc, Dataset d, int parts) {
        if (parts < 1 || parts > d.rows()) throw new IllegalArgumentException("partitions must be in [1, " + d.rows() + "], got " + parts);
        Broadcast<Rows> rows = sc.broadcast(new Rows(d.name(), d.x(), d.y(), d.rows(), d.features(), d.classes()));
        List<Integer> ids = new ArrayList<>();
        for (int p = 0; p < parts; p++) ids.add(p);
        return sc.parallelize(ids, parts).map(p -> rows.value().shard(p, parts));
    }

    /** A dataset's arrays as a broadcast value (the engine's {@link Dataset} is not Serializable). */
    record Rows(String name, float[] x, int[] y, int rows, int features, int classes) implements java.io.Serializable {
        Shard shard(int p, int parts) { return Shard.part(new Dataset(name, x, y, rows, features, classes), p, parts); }
    }

    /**
     * One shard per partition of {@code table}: the label column (integer class in [0, classes)) and every
     * other column, in order, as features. Global index = the row's position in the table (zipWithIndex),
     * so a file read the same way gives the same indices and the same epoch order.
     */
    public static JavaRDD<Shard> of(org.apache.spark.sql.Dataset<Row> table, String label, int classes) {
        String[] cols = table.columns();
        int labelAt = Arrays.asList(cols).indexOf(label);
        if (labelAt < 0) throw new IllegalArgumentException("no label column '" + label + "' among " + Arrays.toString(cols));
        int features = cols.length - 1;
        if (features < 1) throw new IllegalArgumentException("table has only the label column '" + label + "'");
        String[] names = cols.clone();
        return table.javaRDD().zipWithIndex().mapPartitionsWithIndex((part, it) -> {
            Builder b = new Builder(features);
            while (it.hasNext()) {
                Tuple2<Row, Long> t = it.next();
                Row r = t._1();
                float[] x = new float[features];
                int k = 0;
                int y = -1;
                for (int c = 0; c < names.length; c++) {
                    double v = number(r, c, names[c], t._2());
                    if (c == labelAt) y = label(v, names[c], t._2(), classes);
                    else x[k++] = (float) v;
                }
                b.add(x, y, t._2());
            }
            return List.of(b.build(part)).iterator();
        }, true);
    }

    /**
     * A CSV file (or folder of part files) of numbers with a header row naming the columns, read as text
     * and parsed here (no quoting; blank lines and repeated header lines are skipped): the label column
     * (integer class in [0, classes)) and every other column, in order, as features. Global index = the
     * data row's number in the file order (0 = the first line after the header). Errors name the row and column.
     * {@code minPartitions} > 0 asks for at least that many partitions (file splits).
     */
    public static JavaRDD<Shard> csv(JavaSparkContext sc, String path, String label, int classes, int minPartitions) {
        JavaRDD<String> lines = minPartitions > 0 ? sc.textFile(path, minPartitions) : sc.textFile(path);
        String header = lines.first();
        String[] names = header.split(",", -1);
        for (int c = 0; c < names.length; c++) names[c] = names[c].trim();
        int labelAt = Arrays.asList(names).indexOf(label);
        if (labelAt < 0) throw new IllegalArgumentException(path + ": no label column '" + label + "' in the header " + Arrays.toString(names));
        int features = names.length - 1;
        if (features < 1) throw new IllegalArgumentException(path + ": the header has only the label column '" + label + "'");
        return lines.filter(l -> !l.isBlank() && !l.equals(header)).zipWithIndex().mapPartitionsWithIndex((part, it) -> {
            Builder b = new Builder(features);
            while (it.hasNext()) {
                Tuple2<String, Long> t = it.next();
                String[] cells = t._1().split(",", -1);
                if (cells.length != names.length) {
                    throw new IllegalArgumentException(path + ": row " + t._2() + " has " + cells.length + " cells, the header " + names.length);
                }
                float[] x = new float[features];
                int k = 0;
                int y = -1;
                for (int c = 0; c < cells.length; c++) {
                    double v = number(cells[c], names[c], t._2());
                    if (c == labelAt) y = label(v, names[c], t._2(), classes);
                    else x[k++] = (float) v;
                }
                b.add(x, y, t._2());
            }
            return List.of(b.build(part)).iterator();
        }, true);
    }

    /** The largest label in a CSV (see {@link #csv}) plus one: the class count when none is given. */
    public static int classes(JavaSparkContext sc, String path, String label) {
        JavaRDD<String> lines = sc.textFile(path);
        String header = lines.first();
        int labelAt = Arrays.asList(header.split(",", -1)).stream().map(String::trim).toList().indexOf(label);
        if (labelAt < 0) throw new IllegalArgumentException(path + ": no label column '" + label + "' in the header '" + header + "'");
        return 1 + lines.filter(l -> !l.isBlank() && !l.equals(header)).map(l -> {
            String[] cells = l.split(",", -1);
            return labelAt < cells.length ? (int) Math.max(0, number(cells[labelAt], label, -1)) : 0;
        }).reduce(Math::max);
    }

    /** Collects one partition's rows into a shard. */
    private static final class Builder {
        final int features;
        final List<float[]> xs = new ArrayList<>();
        final List<Integer> ys = new ArrayList<>();
        final List<Long> idx = new ArrayList<>();

        Builder(int features) { this.features = features; }

        void add(float[] x, int y, long index) {
            xs.add(x);
            ys.add(y);
            idx.add(index);
        }

        Shard build(int part) {
            float[] flat = new float[xs.size() * features];
            for (int i = 0; i < xs.size(); i++) System.arraycopy(xs.get(i), 0, flat, i * features, features);
            return new Shard(part, features, flat, ys.stream().mapToInt(Integer::intValue).toArray(),
                    idx.stream().mapToLong(Long::longValue).toArray());
        }
    }

    private static int label(double v, String name, long row, int classes) {
        if (v != Math.rint(v) || v < 0 || v >= classes) {
            throw new IllegalArgumentException("row " + row + ": label '" + name + "' = " + v + " is not a class in [0, " + classes + ")");
        }
        return (int) v;
    }

    private static double number(String cell, String name, long row) {
        try {
            double v = Double.parseDouble(cell.trim());
            if (Double.isFinite(v)) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("row " + row + ", column '" + name + "': '" + cell + "' is not a finite number");
    }

    private static double number(Row r, int c, String name, long row) {
        Object o = r.get(c);
        if (o instanceof Number n) {
            double v = n.doubleValue();
            if (Double.isFinite(v)) return v;
        } else if (o instanceof String s) {
            try {
                double v = Double.parseDouble(s.trim());
                if (Double.isFinite(v)) return v;
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("row " + row + ", column '" + name + "': '" + o + "' is not a finite number");
    }
}
