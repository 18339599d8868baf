package io.actcache.cuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GpuAvailabilityTest {
    private static final List<String> UNAVAILABLE_PREFIXES = List.of("disabled by", "no JCuda natives",
        "no CUDA driver", "CUDA driver refused", "no CUDA device");

    @Test
    void shouldSayWhyWhenNoGpuCanBeUsedOrDescribeTheDevice() {
        final GpuAvailability gpu = GpuContext.isAvailable();
        System.out.println("GpuContext.isAvailable(): " + gpu);
        if (gpu.isAvailable()) {
            assertTrue(gpu.deviceCount() >= 1);
            assertFalse(gpu.deviceName().isEmpty());
            assertTrue(gpu.reason().contains(gpu.deviceName()), gpu.reason());
            assertTrue(gpu.driverVersion() >= 12_000, "driver version " + gpu.driverVersion());
        } else {
            assertTrue(UNAVAILABLE_PREFIXES.stream().anyMatch(gpu.reason()::startsWith), gpu.reason());
            assertEquals(0, gpu.deviceCount());
            assertEquals("", gpu.deviceName());
        }
    }

    @Test
    void shouldProbeOncePerProcess() {
        assertSame(GpuContext.isAvailable(), GpuContext.isAvailable());
    }

    @Test
    void shouldRefuseToOpenAContextWithTheProbesReason() {
        final GpuAvailability gpu = GpuContext.isAvailable();
        if (gpu.isAvailable()) {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GpuContext.open(gpu.deviceCount()));
            assertEquals("device ordinal " + gpu.deviceCount() + " out of [0, " + gpu.deviceCount() + ")",
                e.getMessage());
        } else {
            final GpuUnavailableException e = assertThrows(GpuUnavailableException.class, GpuContext::open);
            assertEquals("cannot open a GPU context: " + gpu.reason(), e.getMessage());
        }
    }

    @Test
    void shouldReportDisabledWhenThePropertyIsSet() {
        final String previous = System.getProperty(GpuAvailability.DISABLE_PROPERTY);
        System.setProperty(GpuAvailability.DISABLE_PROPERTY, "true");
        try {
            final GpuAvailability gpu = GpuAvailability.probe();
            assertFalse(gpu.isAvailable());
            assertEquals("disabled by -Dactcache.cuda.disable=true", gpu.reason());
            assertEquals("GPU unavailable: disabled by -Dactcache.cuda.disable=true", gpu.toString());
        } finally {
            if (previous == null) {
                System.clearProperty(GpuAvailability.DISABLE_PROPERTY);
            } else {
                System.setProperty(GpuAvailability.DISABLE_PROPERTY, previous);
            }
        }
    }
}
