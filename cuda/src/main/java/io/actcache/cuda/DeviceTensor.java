package io.actcache.cuda;

import io.actcache.AlreadyClosedException;
import io.actcache.CapacityExceededException;
import io.actcache.store.ActivationStore;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

/**
 * A tensor in device memory: dtype, shape and a {@code cuMemAlloc} pointer, owned by the {@link GpuContext} that
 * allocated it and freed by {@link #close()} (idempotent). Row-major and dense like a {@link Tensor}. A tensor of
 * 0 bytes holds no allocation. One thread at a time, like its context.
 */
public final class DeviceTensor implements AutoCloseable {
    private final GpuContext context;
    private final DType dtype;
    private final Shape shape;
    private final DevicePointer pointer;
    private final long byteSize;
    private Runnable onClose;
    private boolean closed;

    DeviceTensor(final GpuContext context, final DType dtype, final Shape shape, final DevicePointer pointer,
        final long byteSize) {
        this.context = context;
        this.dtype = dtype;
        this.shape = shape;
        this.pointer = pointer;
        this.byteSize = byteSize;
    }

    /** @return the element type. */
    public DType dtype() {
        return dtype;
    }

    /** @return the shape. */
    public Shape shape() {
        return shape;
    }

    /** @return bytes of device memory. */
    public long byteSize() {
        return byteSize;
    }

    /** @return the context that owns it. */
    public GpuContext context() {
        return context;
    }

    /** @return true once closed. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * @return the device pointer, for driver calls and kernel launches.
     * @throws AlreadyClosedException after {@link #close()}.
     */
    public CUdeviceptr pointer() {
        if (closed) {
            throw new AlreadyClosedException("device tensor " + dtype + " " + shape + " is closed");
        }
        return pointer;
    }

    /**
     * Copies the bytes to a new direct host tensor, through the context's staging buffers.
     *
     * @return the host copy.
     * @throws CapacityExceededException when the tensor is larger than a host {@link Tensor} may be; use
     *                                   {@link #appendTo} or {@link #openDownload()} for those.
     */
    public Tensor toHost() {
        if (byteSize > Tensor.MAX_BYTES) {
            throw new CapacityExceededException("device tensor " + dtype + " " + shape + " has " + byteSize
                + " bytes, more than a host tensor holds (" + Tensor.MAX_BYTES + "); stream it with appendTo or "
                + "openDownload");
        }
        final Tensor host = Tensor.allocate(dtype, shape);
        try (DeviceDownload download = openDownload()) {
            download.view().copyTo(host.buffer());
        }
        return host;
    }

    /**
     * @return a host view of the bytes that downloads them window by window through two page-locked buffers
     *         (the next window in flight while the consumer reads this one); close it to free the buffers.
     */
    public DeviceDownload openDownload() {
        return new DeviceDownload(this);
    }

    /**
     * Appends the bytes to a store column as one commit, streamed through page-locked buffers, never whole on
     * the host.
     *
     * @param store a writable store.
     * @param key   the column; created by the first append.
     */
    public void appendTo(final ActivationStore store, final String key) {
        try (DeviceDownload download = openDownload()) {
            store.append(key, download.view());
        }
    }

    /** @param action run once when this tensor is closed (an engine's budget accounting). */
    void onClose(final Runnable action) {
        this.onClose = action;
    }

    /**
     * @return the device address of byte 0, as a number (for addresses passed by value to kernels).
     * @throws AlreadyClosedException after {@link #close()}.
     */
    long address() {
        pointer();
        return pointer.address();
    }

    /** @return the pointer without the closed check, for the owner's free. */
    CUdeviceptr rawPointer() {
        return pointer;
    }

    /** Frees the device memory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            context.free(this);
        } finally {
            if (onClose != null) {
                onClose.run();
            }
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + dtype + " " + shape + ", " + byteSize + " bytes" + (closed ? ", closed" : "") + "]";
    }
}
