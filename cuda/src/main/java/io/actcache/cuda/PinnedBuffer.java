package io.actcache.cuda;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A page-locked host buffer ({@code cuMemHostAlloc}) with an event that marks when the last transfer using it
 * finished, one half of a double buffer. Freed by {@link #close()} (idempotent), which first waits for that
 * transfer.
 */
final class PinnedBuffer implements AutoCloseable {
    private final Pointer host = new Pointer();
    private final CUevent event = new CUevent();
    private final ByteBuffer buffer;
    private final int capacity;
    private boolean eventCreated;
    private boolean pending;
    private boolean closed;

    /**
     * @param capacity bytes.
     * @param purpose  for messages.
     */
    PinnedBuffer(final int capacity, final String purpose) {
        this.capacity = capacity;
        CudaResults.checkAllocation(JCudaDriver.cuMemHostAlloc(host, Math.max(1, capacity), 0),
            "cuMemHostAlloc(" + capacity + " bytes) for " + purpose, capacity, () -> -1);
        try {
            CudaResults.check(JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING),
                "cuEventCreate for " + purpose);
            eventCreated = true;
        } catch (final RuntimeException e) {
            JCudaDriver.cuMemFreeHost(host);
            throw e;
        }
        buffer = host.getByteBuffer(0, Math.max(1, capacity)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** @return the host pointer. */
    Pointer pointer() {
        return host;
    }

    /** @return a little-endian buffer over the whole capacity, position 0. */
    ByteBuffer buffer() {
        return buffer.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** @return bytes. */
    int capacity() {
        return capacity;
    }

    /**
     * Marks the transfers queued so far on the stream as the buffer's pending use.
     *
     * @param stream the stream they were queued on.
     */
    void recordUse(final jcuda.driver.CUstream stream) {
        CudaResults.check(JCudaDriver.cuEventRecord(event, stream), "cuEventRecord(pinned buffer)");
        pending = true;
    }

    /** Waits until the pending transfer (if any) finished, so the buffer may be reused. */
    void awaitIdle() {
        if (pending) {
            pending = false;
            CudaResults.check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize(pinned buffer)");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            awaitIdle();
        } finally {
            try {
                if (eventCreated) {
                    CudaResults.check(JCudaDriver.cuEventDestroy(event), "cuEventDestroy(pinned buffer)");
                }
            } finally {
                CudaResults.check(JCudaDriver.cuMemFreeHost(host), "cuMemFreeHost(" + capacity + " bytes)");
            }
        }
    }
}
