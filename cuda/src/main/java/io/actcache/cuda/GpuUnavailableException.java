package io.actcache.cuda;

import io.actcache.ActCacheException;

/**
 * A GPU was asked for where none can be used; the message is {@link GpuAvailability#reason()} (no JCuda natives,
 * no driver, no device). Callers that can run on the CPU check {@link GpuContext#isAvailable()} first.
 */
public final class GpuUnavailableException extends ActCacheException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message why no GPU can be used.
     */
    public GpuUnavailableException(final String message) {
        super(message);
    }
}
