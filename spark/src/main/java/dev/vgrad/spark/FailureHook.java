package dev.vgrad.spark;

import java.io.Serializable;
import org.apache.spark.TaskContext;

/**
 * A test hook that makes the first attempt of one task fail: the task of {@code partition} at global
 * step {@code step} throws while {@code TaskContext.attemptNumber() == 0}. Spark retries the task (with
 * a master such as {@code local[2,4]}, or {@code spark.task.maxFailures} on a cluster) and the retry,
 * attempt 1, runs normally, so the step must end with the same result as without the failure.
 */
public record FailureHook(long step, int partition) implements Serializable {
    /** The message of the injected failure. */
    public static final String MESSAGE = "vgrad-spark: injected task failure";

    void check(long currentStep, int currentPartition, TaskContext task) {
        if (currentStep == step && currentPartition == partition && task != null && task.attemptNumber() == 0) {
            throw new IllegalStateException(MESSAGE + " at step " + step + ", partition " + partition + ", stage " + task.stageId()
                    + ", attempt " + task.attemptNumber());
        }
    }
}
