package io.actcache.tensor;

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

    /** @return a description of the resource for messages, such as the file path and key. */
    String description();
}
