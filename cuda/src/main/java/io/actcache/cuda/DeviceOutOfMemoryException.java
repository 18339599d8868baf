package io.actcache.cuda;

/**
 * A device allocation failed for lack of memory ({@code CUDA_ERROR_OUT_OF_MEMORY}), or would exceed the budget an
 * engine was given. The message and the accessors give the bytes requested and the bytes free at the time; the
 * failed operation leaves no allocation behind.
 */
public final class DeviceOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long freeBytes;

    /**
     * @param message        the full message.
     * @param resultCode     the driver's code ({@code CUDA_ERROR_OUT_OF_MEMORY}).
     * @param operation      the allocation.
     * @param requestedBytes bytes asked for.
     * @param freeBytes      bytes free on the device (or left in the budget) when it failed; -1 when unknown.
     */
    public DeviceOutOfMemoryException(final String message, final int resultCode, final String operation,
        final long requestedBytes, final long freeBytes) {
        super(message, resultCode, operation);
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
    }

    /** @return bytes the failed allocation asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** @return bytes free when it failed, or -1 when the driver could not say. */
    public long freeBytes() {
        return freeBytes;
    }
}
