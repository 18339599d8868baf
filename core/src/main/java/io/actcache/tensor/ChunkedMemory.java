package io.actcache.tensor;

import java.nio.ByteBuffer;

/**
 * The memory behind a {@link TensorView}, addressed by {@code long} byte offsets and handed out as
 * {@link MemoryChunk}s: one chunk for an in-memory tensor, lazily mapped pieces of a file for a store column.
 * Implementations never let an element straddle two chunks (chunk boundaries are multiples of 8 bytes relative
 * to element-aligned data).
 */
public interface ChunkedMemory {
    /**
     * Returns a live chunk holding {@code position} and at least every byte up to
     * {@code min(requiredEnd, end of that chunk)}.
     *
     * @param position    first byte needed.
     * @param requiredEnd one past the last byte the caller may read in this chunk.
     * @return a live chunk.
     * @throws io.actcache.AlreadyClosedException when the owner (store, tensor) was closed.
     */
    MemoryChunk chunkFor(long position, long requiredEnd);

    /**
     * Copies bytes from {@code position} straight into {@code dst} when this memory can do so more cheaply than
     * through a chunk, advancing {@code dst}: a block-compressed column decodes a block wholly inside the copy into
     * the destination instead of into its pool and out again. The default copies nothing.
     *
     * @param position first byte to copy.
     * @param stop     one past the last byte the copy needs.
     * @param dst      writable, with at least {@code stop - position} bytes remaining.
     * @return bytes copied (at most {@code stop - position}); 0 when the caller must copy through
     *         {@link #chunkFor}.
     */
    default int copyDirect(final long position, final long stop, final ByteBuffer dst) {
        return 0;
    }

    /** @return a description of the resource for messages, such as the file path and key. */
    String description();
}
