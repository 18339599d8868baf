package io.actcache.cuda;

import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaResultsTest {
    @Test
    void shouldPassSuccessWithoutAskingAnything() {
        final AtomicInteger asked = new AtomicInteger();
        assertDoesNotThrow(() -> CudaResults.check(CUresult.CUDA_SUCCESS, "cuInit(0)"));
        assertDoesNotThrow(() -> CudaResults.checkAllocation(CUresult.CUDA_SUCCESS, "cuMemAlloc", 8, () -> {
            asked.incrementAndGet();
            return 0;
        }));
        assertEquals(0, asked.get(), "free memory is queried only on failure");
    }

    @Test
    void shouldNameTheCudaErrorTheCodeAndTheOperation() {
        final CudaException e = assertThrows(CudaException.class,
            () -> CudaResults.check(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, "cuMemcpyDtoDAsync(4096 bytes)"));
        assertEquals("cuMemcpyDtoDAsync(4096 bytes) failed: CUDA_ERROR_ILLEGAL_ADDRESS (700)", e.getMessage());
        assertEquals(700, e.resultCode());
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", e.errorName());
        assertEquals("cuMemcpyDtoDAsync(4096 bytes)", e.operation());
    }

    @Test
    void shouldMapEveryDriverCodeToItsOwnName() {
        assertEquals("CUDA_ERROR_NO_DEVICE", CudaResults.errorName(CUresult.CUDA_ERROR_NO_DEVICE));
        assertEquals("CUDA_ERROR_INVALID_VALUE", CudaResults.errorName(CUresult.CUDA_ERROR_INVALID_VALUE));
        assertEquals("CUDA_ERROR_NOT_SUPPORTED", CudaResults.errorName(CUresult.CUDA_ERROR_NOT_SUPPORTED));
        assertEquals("CUDA_ERROR_LAUNCH_FAILED", CudaResults.errorName(CUresult.CUDA_ERROR_LAUNCH_FAILED));
    }

    @Test
    void shouldKeepACodeThisJCudaDoesNotKnow() {
        final CudaException e = assertThrows(CudaException.class, () -> CudaResults.check(12_345, "cuFuture()"));
        assertEquals("cuFuture() failed: CUresult 12345 (12345)", e.getMessage());
        assertEquals(12_345, e.resultCode());
    }

    @Test
    void shouldReportRequestedAndFreeBytesWhenAnAllocationRunsOutOfMemory() {
        final CudaException e = assertThrows(CudaException.class, () -> CudaResults.checkAllocation(
            CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1073741824 bytes) for F32 [268435456]", 1L << 30,
            () -> 52_428_800L));
        final DeviceOutOfMemoryException oom = assertInstanceOf(DeviceOutOfMemoryException.class, e);
        assertEquals(1L << 30, oom.requestedBytes());
        assertEquals(52_428_800L, oom.freeBytes());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", oom.errorName());
        assertEquals("cuMemAlloc(1073741824 bytes) for F32 [268435456] failed: CUDA_ERROR_OUT_OF_MEMORY (2): "
            + "requested 1073741824 bytes, 52428800 bytes free on the device", oom.getMessage());
    }

    @Test
    void shouldSayWhenFreeBytesAreUnknown() {
        final DeviceOutOfMemoryException oom = assertThrows(DeviceOutOfMemoryException.class,
            () -> CudaResults.checkAllocation(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemHostAlloc(64 bytes)", 64,
                () -> -1));
        assertTrue(oom.getMessage().endsWith("requested 64 bytes, free bytes unknown"), oom.getMessage());
    }

    @Test
    void shouldTreatOtherAllocationFailuresAsPlainCudaErrors() {
        final CudaException e = assertThrows(CudaException.class, () -> CudaResults.checkAllocation(
            CUresult.CUDA_ERROR_INVALID_VALUE, "cuMemAlloc(0 bytes)", 0, () -> 0));
        assertEquals(CudaException.class, e.getClass());
        assertEquals("cuMemAlloc(0 bytes) failed: CUDA_ERROR_INVALID_VALUE (1)", e.getMessage());
    }
}
