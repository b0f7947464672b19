package dev.vgrad.spark;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.io.Dataset;
import dev.vgrad.io.Digits;
import dev.vgrad.train.Evaluation;
import dev.vgrad.train.Optimizer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * The {@code spark-submit} entry point: trains an MLP classifier on a CSV (with a header row) or Parquet
 * dataset with synchronous data-parallel SGD/Adam and writes the model file (the CLI's safetensors
 * {@link ModelFile}: {@code vgrad eval} and {@code vgrad predict} read it).
 *
 * <pre>
 * spark-submit --class dev.vgrad.spark.VgradSpark --master spark://host:7077 \
 *   --driver-java-options "--add-modules jdk.incubator.vector" \
 *   --conf spark.executor.extraJavaOptions="--add-modules jdk.incubator.vector" \
 *   vgrad-spark.jar --data hdfs:///data/train.csv --label label --hidden 256,256 --batch 1024 --epochs 10 \
 *   --optimizer "adam 0.001" --checkpoint /shared/run.ckpt --checkpoint-every 100 --out /shared/model.safetensors
 * </pre>
 *
 * {@code --data digits} trains on the embedded digits dataset (no file needed). Without {@code --master}
 * the master comes from spark-submit.
 */
public final class VgradSpark {
    private VgradSpark() {}

    static final String USAGE = """
            usage: VgradSpark --data PATH|digits [options]
              --data PATH          numeric CSV with a header row, or a .parquet path; 'digits' = the embedded digits
              --label NAME         label column (default: label); every other column is a feature
              --classes N          number of classes (default: largest label + 1)
              --hidden 256,256     hidden layer sizes (default 128)
              --activation relu    relu, leaky-relu, sigmoid, tanh, gelu
              --batch B            global batch, split across partitions (default 128)
              --epochs E           epochs (default 10), or --steps N global steps
              --optimizer SPEC     'adam LR', 'adamw LR', 'sgd LR [MOMENTUM NESTEROV DECAY]' (default 'adam 0.001')
              --seed S             initialisation and epoch-order seed (default 42)
              --partitions P       at least P partitions for a CSV, exactly P for Parquet or digits (default: as read; digits 4)
              --checkpoint FILE    write a checkpoint there every --checkpoint-every K steps (default 100)
              --resume             continue from --checkpoint if it exists
              --test PATH          labelled CSV to report accuracy on at the end (or 'digits-test')
              --out FILE           model file to write, safetensors (default model.safetensors)
              --master URL         Spark master (default: spark-submit's)
            """;

    public static void main(String[] args) {
        Map<String, String> o = parse(args);
        SparkSession.Builder b = SparkSession.builder().appName("vgrad-spark");
        if (o.containsKey("master")) b.master(o.get("master"));
        SparkSession spark = b.getOrCreate();
        try {
            run(spark, o, System.out);
        } finally {
            spark.stop();
        }
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + USAGE);
            String key = a.substring(2);
            if (key.equals("resume") || key.equals("help")) {
                o.put(key, "true");
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException("option --" + key + " needs a value\n" + USAGE);
                o.put(key, args[++i]);
            }
        }
        if (o.containsKey("help") || !o.containsKey("data")) throw new IllegalArgumentException(USAGE);
        return o;
    }

    /** Trains as the options say and writes the model; returns the trainer (closed) for inspection. */
    static DataParallelTrainer run(SparkSession spark, Map<String, String> o, PrintStream out) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String data = o.get("data");
        String label = o.getOrDefault("label", "label");
        JavaRDD<Shard> shards;
        long rows;
        int features, classes;
        Dataset.Split digits = null;
        if (data.equals("digits")) {
            digits = Digits.load().split(0.1, 0.2, Long.parseLong(o.getOrDefault("seed", "42")));
            Dataset train = digits.train();
            shards = Shards.of(sc, train, Integer.parseInt(o.getOrDefault("partitions", "4")));
            rows = train.rows();
            features = train.features();
            classes = train.classes();
        } else if (data.endsWith(".parquet")) {
            org.apache.spark.sql.Dataset<Row> table = spark.read().parquet(data);
            if (o.containsKey("partitions")) table = table.repartition(Integer.parseInt(o.get("partitions")));
            List<String> cols = List.of(table.columns());
            if (!cols.contains(label)) throw new IllegalArgumentException(data + ": no label column '" + label + "' among " + cols);
            classes = o.containsKey("classes") ? Integer.parseInt(o.get("classes"))
                    : ((Number) table.agg(functions.max(table.col(label))).first().get(0)).intValue() + 1;
            features = cols.size() - 1;
            shards = Shards.of(table, label, classes).persist(StorageLevel.MEMORY_ONLY());
            rows = shards.map(s -> (long) s.rows()).reduce(Long::sum);
        } else {
            classes = o.containsKey("classes") ? Integer.parseInt(o.get("classes")) : Shards.classes(sc, data, label);
            shards = Shards.csv(sc, data, label, classes, o.containsKey("partitions") ? Integer.parseInt(o.get("partitions")) : 0)
                    .persist(StorageLevel.MEMORY_ONLY());
            features = shards.first().features;
            rows = shards.map(s -> (long) s.rows()).reduce(Long::sum);
        }
        ModelSpec spec = ModelSpec.parse(features + "-" + o.getOrDefault("hidden", "128").replace(',', '-') + "-" + classes + " "
                + o.getOrDefault("activation", "relu") + " he-uniform");
        int batch = Integer.parseInt(o.getOrDefault("batch", "128"));
        long seed = Long.parseLong(o.getOrDefault("seed", "42"));
        Optimizer opt = Optimizers.parse(o.getOrDefault("optimizer", "adam 0.001"));
        Path ckpt = o.containsKey("checkpoint") ? Path.of(o.get("checkpoint")) : null;
        long every = Long.parseLong(o.getOrDefault("checkpoint-every", "100"));
        Path model = Path.of(o.getOrDefault("out", "model.safetensors"));

        DataParallelTrainer t;
        if (o.containsKey("resume") && ckpt != null && Files.exists(ckpt)) {
            t = DataParallelTrainer.resume(sc, shards, rows, Checkpoint.read(ckpt));
            out.printf("resumed from %s at step %d%n", ckpt, t.steps());
        } else {
            t = new DataParallelTrainer(sc, shards, rows, spec, batch, opt, seed);
        }
        long total = o.containsKey("steps") ? Long.parseLong(o.get("steps")) : Long.parseLong(o.getOrDefault("epochs", "10")) * t.batchesPerEpoch();
        out.printf("vgrad-spark: model %s, %d rows in %d partitions, global batch %d (%d steps per epoch), %s, %d steps%n", t.spec().text(),
                rows, shards.getNumPartitions(), t.batch(), t.batchesPerEpoch(), Optimizers.text(t.model().optimizer()), total);
        long start = System.nanoTime();
        try (t) {
            double lossSum = 0;
            long lossRows = 0;
            long epochStart = start;
            while (t.steps() < total) {
                DataParallelTrainer.StepStats s = t.step();
                lossSum += s.loss() * s.rows();
                lossRows += s.rows();
                if (ckpt != null && every > 0 && t.steps() % every == 0) t.checkpoint(ckpt);
                if (t.steps() % t.batchesPerEpoch() == 0 || t.steps() == total) {
                    long now = System.nanoTime();
                    out.printf(Locale.ROOT, "epoch %3d  step %6d  train loss %.4f  %.1f samples/s%n", s.epoch() + 1, t.steps(), lossSum / lossRows,
                            lossRows / ((now - epochStart) / 1e9));
                    lossSum = 0;
                    lossRows = 0;
                    epochStart = now;
                }
            }
            if (ckpt != null) t.checkpoint(ckpt);
            ModelFile.save(model, t.model(), Checkpoint.of(t).metadata());
            out.printf("wrote %s (%d parameters) in %.1f s%n", model, t.model().params().length, (System.nanoTime() - start) / 1e9);
            Dataset test = null;
            String testPath = o.get("test");
            if (testPath != null && testPath.equals("digits-test") && digits != null) test = digits.test();
            else if (testPath != null) test = collect(spark, testPath, label, classes);
            if (test != null) {
                Evaluation.Result r = new Evaluation(t.model()).run(test);
                out.printf(Locale.ROOT, "test: %d rows, loss %.4f, accuracy %.2f%%%n", test.rows(), r.loss(), 100 * r.accuracy());
            }
        }
        return t;
    }

    /** A (small) labelled CSV or Parquet dataset brought to the driver, for evaluation. */
    static Dataset collect(SparkSession spark, String path, String label, int classes) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Shard> parts = path.endsWith(".parquet") ? Shards.of(spark.read().parquet(path), label, classes).collect()
                : Shards.csv(sc, path, label, classes, 0).collect();
        int features = parts.get(0).features;
        int n = parts.stream().mapToInt(Shard::rows).sum();
        float[] x = new float[n * features];
        int[] y = new int[n];
        int at = 0;
        for (Shard s : parts) {
            System.arraycopy(s.x, 0, x, at * features, s.x.length);
            System.arraycopy(s.y, 0, y, at, s.y.length);
            at += s.rows();
        }
        return new Dataset("test", x, y, n, features, classes);
    }
}
