package dev.vgrad.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.cli.model.ModelFile;
import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.io.Dataset;
import dev.vgrad.train.Optimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed task is retried with the same result; a checkpoint resumes to the same parameters as an
 * uninterrupted run. Two partitions: the driver then adds exactly two buffers, and a + b == b + a in
 * IEEE arithmetic, so the step is bitwise reproducible whatever order the tasks finish in (with more
 * partitions the double sum's order follows task completion; see the README).
 */
class FaultToleranceTest {
    static final ModelSpec SPEC = ModelSpec.mlp(64, 10, 32);

    static DataParallelTrainer trainer(Dataset train, Optimizer opt) {
        return new DataParallelTrainer(SparkTests.sc(), Shards.of(SparkTests.sc(), train, 2), train.rows(), SPEC, 64, opt, 5);
    }

    @Test
    void anInjectedTaskFailureIsRetriedAndTheStepIsUnchanged() throws Exception {
        Dataset train = SparkTests.digits().train();
        AtomicInteger failedTasks = new AtomicInteger();
        SparkListener listener = new SparkListener() {
            @Override public void onTaskEnd(SparkListenerTaskEnd end) {
                if (!end.taskInfo().successful()) failedTasks.incrementAndGet();
            }
        };
        SparkTests.session().sparkContext().addSparkListener(listener);
        try (DataParallelTrainer clean = trainer(train, new Optimizer.Adam(1e-3f));
             DataParallelTrainer failing = trainer(train, new Optimizer.Adam(1e-3f)).failOnce(new FailureHook(2, 1))) {
            for (int s = 0; s < 4; s++) {
                DataParallelTrainer.StepStats a = clean.step(), b = failing.step();
                assertEquals(a.rows(), b.rows(), "step " + s + " rows");
                assertEquals(a.loss(), b.loss(), "step " + s + " loss");
                assertArrayEquals(clean.model().params(), failing.model().params(), "parameters after step " + s);
            }
            SparkTests.session().sparkContext().listenerBus().waitUntilEmpty(10_000);
            assertEquals(1, failedTasks.get(), "exactly the injected task failed once");
        } finally {
            SparkTests.session().sparkContext().removeSparkListener(listener);
        }
    }

    @Test
    void resumeFromACheckpointEqualsAnUninterruptedRun(@TempDir Path dir) {
        Dataset train = SparkTests.digits().train();
        long total = 30, stop = 25;  // 20 batches per epoch (1,258 rows): both runs cross an epoch boundary
        Path ck = dir.resolve("run.ckpt");
        float[] uninterrupted;
        try (DataParallelTrainer t = trainer(train, new Optimizer.Adam(2e-3f))) {
            t.train(total, null, 0);
            uninterrupted = t.model().params().clone();
        }
        try (DataParallelTrainer t = trainer(train, new Optimizer.Adam(2e-3f))) {
            t.train(stop, ck, 5);  // checkpoints after steps 5, 10, ..., 25
        }
        Checkpoint cp = Checkpoint.read(ck);
        assertEquals(stop, cp.step());
        assertEquals(stop, cp.updates(), "Adam's step count is saved");
        try (DataParallelTrainer t = DataParallelTrainer.resume(SparkTests.sc(), Shards.of(SparkTests.sc(), train, 2), train.rows(), cp)) {
            assertEquals(stop, t.steps());
            t.train(total - stop, null, 0);
            assertArrayEquals(uninterrupted, t.model().params(), "resumed run ends where the uninterrupted one does");
        }
    }

    @Test
    void aCorruptOrTruncatedCheckpointIsRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        Dataset train = SparkTests.digits().train();
        Path ck = dir.resolve("c.ckpt");
        try (DataParallelTrainer t = trainer(train, new Optimizer.Sgd(0.1f, 0.9f, true, 1e-4f))) {
            t.step();
            t.checkpoint(ck);
        }
        Checkpoint ok = Checkpoint.read(ck);
        assertEquals(1, ok.step());
        assertEquals(new Optimizer.Sgd(0.1f, 0.9f, true, 1e-4f), ok.optimizer(), "optimizer settings round-trip exactly");
        byte[] good = Files.readAllBytes(ck);
        // a flipped bit in the last tensor's data: finite, so only the checksum can tell
        byte[] flipped = good.clone();
        flipped[good.length - 3] ^= 0x01;
        Files.write(ck, flipped);
        Exception e = assertThrows(RuntimeException.class, () -> Checkpoint.read(ck));
        assertTrue(e.getMessage().contains("CRC32") && e.getMessage().contains(ck.toString()), e.getMessage());
        // truncated: the model file's own validation, with the offset
        Files.write(ck, java.util.Arrays.copyOf(good, 5));
        e = assertThrows(ModelFileException.class, () -> Checkpoint.read(ck));
        assertTrue(e.getMessage().contains(ck.toString()) && e.getMessage().contains("offset 0"), e.getMessage());
        // a plain model file is not a checkpoint
        Path plain = dir.resolve("plain.safetensors");
        try (DataParallelTrainer t = trainer(train, new Optimizer.Adam(1e-3f))) {
            ModelFile.save(plain, t.model(), java.util.Map.of());
        }
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.read(plain));
        assertTrue(e.getMessage().contains("has no 'vgrad.spark.model'"), e.getMessage());
        // a write over an existing checkpoint replaces it whole: no temporary files left behind
        Files.write(ck, good);
        ok.write(ck);
        assertArrayEquals(good, Files.readAllBytes(ck));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "only the checkpoint and the plain model in the folder");
        }
    }
}
