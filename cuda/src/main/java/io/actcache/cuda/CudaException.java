package io.actcache.cuda;

import io.actcache.ActCacheException;

/**
 * A CUDA driver call failed. The message names the operation, the CUDA error name (such as
 * {@code CUDA_ERROR_ILLEGAL_ADDRESS}) and the raw code, which {@link #resultCode()} keeps. Thrown only by
 * {@link CudaResults#check(int, String)}, the one place result codes are mapped.
 */
public class CudaException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    private final int resultCode;
    private final String operation;

    /**
     * @param message    the full message.
     * @param resultCode the driver's {@code CUresult}.
     * @param operation  what was being done, such as {@code cuMemAlloc(4096 bytes) for F32 [1024]}.
     */
    public CudaException(final String message, final int resultCode, final String operation) {
        super(message);
        this.resultCode = resultCode;
        this.operation = operation;
    }

    /** @return the raw {@code CUresult} code. */
    public int resultCode() {
        return resultCode;
    }

    /** @return the CUDA error name of {@link #resultCode()}, such as {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return CudaResults.errorName(resultCode);
    }

    /** @return the operation that failed. */
    public String operation() {
        return operation;
    }
}
