package io.actcache.cuda;

import io.actcache.cache.Aggregation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the device path accepts, checked before it touches a GPU (so: everywhere). */
class DeviceArgumentsTest {
    @Test
    void shouldRunTheBuiltInCopiesAndReductionsOnTheDeviceAndNothingElse() {
        assertTrue(DeviceCache.runsOnDevice(Aggregation.concat()));
        assertTrue(DeviceCache.runsOnDevice(Aggregation.stack()));
        assertTrue(DeviceCache.runsOnDevice(Aggregation.flatten()));
        assertTrue(DeviceCache.runsOnDevice(Aggregation.first()));
        assertTrue(DeviceCache.runsOnDevice(Aggregation.sum()));
        assertTrue(DeviceCache.runsOnDevice(Aggregation.mean()));
        assertFalse(DeviceCache.runsOnDevice(Aggregation.keepList()));
        assertFalse(DeviceCache.runsOnDevice(Aggregation.custom((key, accumulated, batch) -> batch)));
    }

    @Test
    void shouldRejectAnEngineBudgetBelowOneByte() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new GpuMergeEngine(null, 0));
        assertEquals("engine budget must be at least 1 byte, got 0", e.getMessage());
    }

    @Test
    void shouldRejectAMissingContext() {
        final NullPointerException e = assertThrows(NullPointerException.class, () -> new GpuMergeEngine(null, 1));
        assertEquals("context", e.getMessage());
    }

    @Test
    void shouldRejectAnEmptyCat() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> DeviceCache.cat(null, null, java.util.List.of()));
        assertEquals("cat needs at least one device batch", e.getMessage());
    }
}
