package io.actcache.cuda;

import io.actcache.AlreadyClosedException;
import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.DType;
import io.actcache.tensor.MemoryChunk;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import jcuda.Pointer;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Device bytes read on the host one window at a time through two page-locked buffers: the window a reader asks
 * for is served straight from its pinned buffer (no further copy), and the next window is already in flight into
 * the other buffer ({@code cuMemcpyDtoHAsync}), so a consumer writing a store column overlaps the PCIe transfer.
 * {@link #view()} is a {@link TensorView} over it, which {@link io.actcache.store.ActivationStore#append} streams.
 *
 * <p>A window is released when the next one is made (a reader holding it sees it is no longer live and asks
 * again), as for any {@link ChunkedMemory}. Close it to free the pinned buffers (idempotent); a view read after
 * that fails with {@link AlreadyClosedException}. One thread at a time.
 */
public final class DeviceDownload implements ChunkedMemory, AutoCloseable {
    /** Bytes per window (a multiple of every element width). */
    static final int WINDOW_BYTES = 8 << 20;

    /** Queues the device work that leaves bytes {@code [from, from + length)} in a pinned host buffer. */
    interface WindowSource {
        /**
         * @param from   first byte.
         * @param length bytes.
         * @param host   pinned destination.
         * @param stream the stream to queue the work on (asynchronously).
         */
        void fetch(long from, long length, Pointer host, CUstream stream);
    }

    private final GpuContext context;
    private final DType dtype;
    private final Shape shape;
    private final long size;
    private final long window;
    private final WindowSource source;
    private final String description;
    private final PinnedBuffer[] buffers = new PinnedBuffer[2];
    private final long[] bufferStart = {-1, -1};
    private MemoryChunk current;
    private int currentBuffer = -1;
    private boolean closed;

    /**
     * @param tensor a device tensor; it must stay open while the download is read.
     */
    DeviceDownload(final DeviceTensor tensor) {
        this(tensor.context(), tensor.dtype(), tensor.shape(), WINDOW_BYTES,
            (from, length, host, stream) -> CudaResults.check(JCudaDriver.cuMemcpyDtoHAsync(host,
                tensor.pointer().withByteOffset(from), length, stream), "cuMemcpyDtoHAsync(" + length + " bytes of "
                + tensor + ")"),
            "download of " + tensor);
    }

    /**
     * @param context     the context whose stream runs the fetches.
     * @param dtype       element type of the bytes.
     * @param shape       their shape.
     * @param window      bytes per window, a multiple of 8.
     * @param source      queues a window's device work.
     * @param description for messages.
     */
    DeviceDownload(final GpuContext context, final DType dtype, final Shape shape, final long window,
        final WindowSource source, final String description) {
        this.context = context;
        this.dtype = dtype;
        this.shape = shape;
        this.size = shape.byteSize(dtype);
        this.window = Math.min(window, Math.max(8, size));
        this.source = source;
        this.description = description;
    }

    /** @return a view of the device bytes, read through this download. */
    public TensorView view() {
        return new TensorView(dtype, shape, this, 0);
    }

    @Override
    public MemoryChunk chunkFor(final long position, final long requiredEnd) {
        if (closed) {
            throw new AlreadyClosedException(description + " is closed");
        }
        final MemoryChunk chunk = current;
        if (chunk != null && chunk.isLive() && position >= chunk.start() && position < chunk.end()) {
            return chunk;
        }
        final long start = position / window * window;
        if (chunk != null) {
            chunk.release(); // the reader is done with it: its buffer may be refilled
        }
        int serve = bufferHolding(start);
        if (serve < 0) {
            serve = currentBuffer < 0 ? 0 : 1 - currentBuffer;
            fetch(serve, start);
        }
        buffer(serve).awaitIdle();
        currentBuffer = serve;
        final int length = (int) Math.min(window, size - start);
        current = new MemoryChunk(buffers[serve].buffer().limit(length).slice(), start);
        final long next = start + window;
        if (next < size && bufferHolding(next) < 0) {
            fetch(1 - serve, next);
        }
        return current;
    }

    private int bufferHolding(final long start) {
        for (int i = 0; i < 2; i++) {
            if (buffers[i] != null && bufferStart[i] == start) {
                return i;
            }
        }
        return -1;
    }

    private void fetch(final int index, final long start) {
        // First: stream() makes the context current, and the pinned buffer and its event must be created in it.
        final CUstream stream = context.stream();
        final PinnedBuffer buffer = buffer(index);
        buffer.awaitIdle();
        bufferStart[index] = -1;
        source.fetch(start, Math.min(window, size - start), buffer.pointer(), stream);
        buffer.recordUse(stream);
        bufferStart[index] = start;
    }

    private PinnedBuffer buffer(final int index) {
        if (buffers[index] == null) {
            buffers[index] = new PinnedBuffer((int) window, description);
        }
        return buffers[index];
    }

    @Override
    public String description() {
        return description;
    }

    /** Waits for transfers in flight and frees the pinned buffers. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (current != null) {
            current.release();
        }
        try {
            if (buffers[0] != null) {
                buffers[0].close();
            }
        } finally {
            if (buffers[1] != null) {
                buffers[1].close();
            }
        }
    }
}
