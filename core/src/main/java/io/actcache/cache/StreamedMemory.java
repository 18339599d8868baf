package io.actcache.cache;

import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.MemoryChunk;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Memory produced on demand, one bounded window at a time: the bytes of a reshaped, stacked or computed view
 * that never exists as a whole. A {@link Filler} writes the window's bytes; only the latest window is kept, so a
 * view over a result of any size costs one window of memory.
 *
 * <p>Design note: windows are whole multiples of a {@code unit} (a row for computed views, 8 bytes for copies),
 * so no element straddles two windows, as {@link ChunkedMemory} requires. A window is released when the next one
 * is made; a view still holding it sees it is no longer live and asks again. One thread at a time.
 */
final class StreamedMemory implements ChunkedMemory {
    /** Target window size in bytes. */
    static final int WINDOW_BYTES = 1 << 20;

    /** Writes the bytes {@code [from, from + dst.remaining())} of the result into {@code dst}. */
    @FunctionalInterface
    interface Filler {
        /**
         * @param from first byte of the result to produce.
         * @param dst  little-endian destination, position 0, exactly the bytes to write remaining.
         */
        void fill(long from, ByteBuffer dst);
    }

    private final long size;
    private final long windowBytes;
    private final Filler filler;
    private final String description;
    private MemoryChunk current;

    /**
     * @param size        total bytes of the result.
     * @param unit        bytes a window must be a multiple of (a row, or 8).
     * @param filler      produces bytes.
     * @param description for messages.
     */
    StreamedMemory(final long size, final long unit, final Filler filler, final String description) {
        this.size = size;
        this.windowBytes = Math.max(unit, WINDOW_BYTES / unit * unit);
        this.filler = filler;
        this.description = description;
        if (windowBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a row of " + unit + " bytes is too large to stream: " + description);
        }
    }

    @Override
    public MemoryChunk chunkFor(final long position, final long requiredEnd) {
        final MemoryChunk chunk = current;
        if (chunk != null && chunk.isLive() && position >= chunk.start() && position < chunk.end()) {
            return chunk;
        }
        final long start = position / windowBytes * windowBytes;
        final int length = (int) Math.min(windowBytes, size - start);
        final ByteBuffer window = ByteBuffer.allocateDirect(length).order(ByteOrder.LITTLE_ENDIAN);
        filler.fill(start, window);
        if (chunk != null) {
            chunk.release();
        }
        current = new MemoryChunk(window.clear(), start);
        return current;
    }

    @Override
    public String description() {
        return description;
    }
}
