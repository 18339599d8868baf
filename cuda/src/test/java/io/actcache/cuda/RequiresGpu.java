package io.actcache.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a test class or method only where {@link GpuContext#isAvailable()} says a GPU can be used; elsewhere JUnit
 * reports it skipped with the probe's reason (no natives, no driver, no device).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresGpu.Condition.class)
public @interface RequiresGpu {
    /** The condition behind the annotation. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(final ExtensionContext context) {
            final GpuAvailability gpu = GpuContext.isAvailable();
            return gpu.isAvailable() ? ConditionEvaluationResult.enabled(gpu.reason())
                : ConditionEvaluationResult.disabled("needs a GPU: " + gpu.reason());
        }
    }
}
