package dev.vgrad.spark;

import dev.vgrad.io.Dataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/** Builds the partitions' {@link Shard}s from an in-memory {@link Dataset} or from a Spark table with a label column. */
public final class Shards {
    private Shards() {}

    /** The dataset cut into {@code parts} partitions of contiguous rows; global index = row number. */
    public static JavaRDD<Shard> of(JavaSparkContext sc, Dataset d, int parts) {
        if (parts < 1 || parts > d.rows()) throw new IllegalArgumentException("partitions must be in [1, " + d.rows() + "], got " + parts);
        return sc.parallelize(Arrays.asList(Shard.split(d, parts)), parts);
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
            List<float[]> xs = new ArrayList<>();
            List<Integer> ys = new ArrayList<>();
            List<Long> idx = new ArrayList<>();
            while (it.hasNext()) {
                Tuple2<Row, Long> t = it.next();
                Row r = t._1();
                float[] x = new float[features];
                int k = 0;
                for (int c = 0; c < names.length; c++) {
                    double v = number(r, c, names[c], t._2());
                    if (c == labelAt) {
                        if (v != Math.rint(v) || v < 0 || v >= classes) {
                            throw new IllegalArgumentException("row " + t._2() + ": label '" + names[c] + "' = " + v + " is not a class in [0, " + classes + ")");
                        }
                        ys.add((int) v);
                    } else {
                        x[k++] = (float) v;
                    }
                }
                xs.add(x);
                idx.add(t._2());
            }
            float[] flat = new float[xs.size() * features];
            for (int i = 0; i < xs.size(); i++) System.arraycopy(xs.get(i), 0, flat, i * features, features);
            int[] y = ys.stream().mapToInt(Integer::intValue).toArray();
            long[] ix = idx.stream().mapToLong(Long::longValue).toArray();
            Iterator<Shard> one = List.of(new Shard(part, features, flat, y, ix)).iterator();
            return one;
        }, true);
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
