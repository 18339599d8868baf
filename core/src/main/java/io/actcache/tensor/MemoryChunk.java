package io.actcache.tensor;

import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One contiguous, int-indexed piece of the memory behind a {@link TensorView}: a mapped file chunk or a
 * tensor's buffer. Buffer index 0 is byte {@link #start()} of the owning {@link ChunkedMemory}.
 *
 * <p>A chunk stays readable until its owner {@linkplain #release() releases} it (for a mapping: just before
 * unmapping). Views check {@link #isLive()} before each access and fetch a fresh chunk when it is false, so a
 * view never touches unmapped memory. Confined to one thread at a time, like the store that owns it.
 */
public final class MemoryChunk {
    private final UnsafeBuffer buffer;
    private final ByteBuffer original;
    private final ByteBuffer byteBuffer;
    private final long start;
    private final long end;
    private boolean live = true;

    /**
     * @param byteBuffer the memory (mapped, direct or heap); its position 0 is {@code start}.
     * @param start      offset of the buffer's first byte within the owning memory.
     */
    public MemoryChunk(final ByteBuffer byteBuffer, final long start) {
        this.original = byteBuffer;
        this.byteBuffer = byteBuffer.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN);
        this.buffer = new UnsafeBuffer(this.byteBuffer);
        this.start = start;
        this.end = start + this.byteBuffer.capacity();
    }

    /** @return the memory as an Agrona buffer (int-indexed, relative to {@link #start()}). */
    public UnsafeBuffer buffer() {
        return buffer;
    }

    /** @return the buffer given at construction (not a duplicate), for its owner to free (e.g. unmap). */
    public ByteBuffer byteBuffer() {
        return original;
    }

    /**
     * @param index  first byte, relative to {@link #start()}.
     * @param length bytes.
     * @return a little-endian slice sharing the memory.
     */
    public ByteBuffer slice(final int index, final int length) {
        return byteBuffer.slice(index, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** @return offset of the first byte within the owning memory. */
    public long start() {
        return start;
    }

    /** @return offset one past the last byte within the owning memory. */
    public long end() {
        return end;
    }

    /** @return bytes in this chunk. */
    public int length() {
        return byteBuffer.capacity();
    }

    /** @return false once released: the memory must not be touched. */
    public boolean isLive() {
        return live;
    }

    /** Marks the chunk unusable; its owner then frees the memory. */
    public void release() {
        live = false;
    }
}
