package io.actcache.cuda;

import jcuda.driver.CUresult;

import java.util.function.LongSupplier;

/**
 * The one place CUDA driver result codes become exceptions: {@link #check} throws a {@link CudaException} (or,
 * for {@code CUDA_ERROR_OUT_OF_MEMORY} on an allocation, a {@link DeviceOutOfMemoryException}) naming the error
 * and the operation. JCuda's own exceptions stay off ({@code setExceptionsEnabled(false)}) so every code passes
 * through here. Pure Java: usable and testable without natives.
 */
public final class CudaResults {
    private CudaResults() {
    }

    /**
     * @param resultCode a {@code CUresult}.
     * @return its name, such as {@code CUDA_ERROR_NO_DEVICE}, or {@code CUresult <code>} for a code this JCuda
     *         version does not know.
     */
    public static String errorName(final int resultCode) {
        final String name = CUresult.stringFor(resultCode);
        return name == null || name.startsWith("INVALID CUresult") ? "CUresult " + resultCode : name;
    }

    /**
     * @param resultCode what a driver call returned.
     * @param operation  what it was doing, for the message.
     * @throws CudaException naming the error and the operation unless the code is {@code CUDA_SUCCESS}.
     */
    public static void check(final int resultCode, final String operation) {
        if (resultCode != CUresult.CUDA_SUCCESS) {
            throw failure(resultCode, operation);
        }
    }

    /**
     * Checks an allocation: out of memory becomes a {@link DeviceOutOfMemoryException} with both byte counts.
     *
     * @param resultCode     what the allocation returned.
     * @param operation      the allocation, for the message.
     * @param requestedBytes bytes asked for.
     * @param freeBytes      asked only on failure: bytes free now, or -1 when unknown.
     * @throws CudaException on any failure.
     */
    public static void checkAllocation(final int resultCode, final String operation, final long requestedBytes,
        final LongSupplier freeBytes) {
        if (resultCode == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            final long free = freeBytes.getAsLong();
            throw new DeviceOutOfMemoryException(operation + " failed: CUDA_ERROR_OUT_OF_MEMORY (" + resultCode
                + "): requested " + requestedBytes + " bytes, " + (free < 0 ? "free bytes unknown" : free
                + " bytes free on the device"), resultCode, operation, requestedBytes, free);
        }
        check(resultCode, operation);
    }

    /**
     * @param resultCode a failure code.
     * @param operation  what was being done.
     * @return the exception {@link #check} would throw.
     */
    public static CudaException failure(final int resultCode, final String operation) {
        return new CudaException(operation + " failed: " + errorName(resultCode) + " (" + resultCode + ")",
            resultCode, operation);
    }
}
