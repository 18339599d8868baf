package io.actcache.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test memory that hands out a direct buffer in small fixed-size chunks, the way a store hands out lazily mapped
 * pieces of a column file, and can release chunks to simulate the mapping cache evicting them.
 *
 * <p>Each chunk is a fresh direct copy of its piece of the source bytes, so releasing one can overwrite it with
 * {@link #SCRIBBLE} without touching the data a later chunk copies: a view that reads a released chunk then sees
 * garbage, as it would see an unmapped page, instead of silently reading stale but correct bytes. One thread only.
 */
final class SlicedMemory implements ChunkedMemory {
    /** The byte a released chunk is filled with. */
    static final byte SCRIBBLE = (byte) 0xA5;

    private final ByteBuffer source;
    private final int chunkSize;
    private final MemoryChunk[] chunks;
    private int chunkForCalls;
    private int chunksCreated;

    /**
     * @param bytes     the memory, from its position to its limit; copied.
     * @param chunkSize bytes per chunk, a multiple of 8.
     */
    SlicedMemory(final ByteBuffer bytes, final int chunkSize) {
        if (chunkSize <= 0 || chunkSize % 8 != 0) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " is not a positive multiple of 8");
        }
        this.source = ByteBuffer.allocateDirect(bytes.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        this.source.put(bytes.duplicate()).flip();
        this.chunkSize = chunkSize;
        this.chunks = new MemoryChunk[(source.capacity() + chunkSize - 1) / chunkSize];
    }

    @Override
    public MemoryChunk chunkFor(final long position, final long requiredEnd) {
        chunkForCalls++;
        if (position < 0 || position >= source.capacity()) {
            throw new IndexOutOfBoundsException("position " + position + " out of [0, " + source.capacity() + ")");
        }
        final int index = (int) (position / chunkSize);
        MemoryChunk chunk = chunks[index];
        if (chunk == null) {
            final int start = index * chunkSize;
            final int length = Math.min(chunkSize, source.capacity() - start);
            final ByteBuffer copy = ByteBuffer.allocateDirect(length);
            copy.put(source.slice(start, length)).flip();
            chunk = new MemoryChunk(copy, start);
            chunks[index] = chunk;
            chunksCreated++;
        }
        return chunk;
    }

    @Override
    public String description() {
        return "sliced memory of " + source.capacity() + " bytes in " + chunkSize + "-byte chunks";
    }

    /**
     * Releases one chunk, if it was handed out, and scribbles over its memory.
     *
     * @param index chunk number: byte offset / chunk size.
     */
    void release(final int index) {
        final MemoryChunk chunk = chunks[index];
        if (chunk != null) {
            chunk.release();
            final ByteBuffer memory = chunk.byteBuffer();
            for (int i = 0; i < memory.capacity(); i++) {
                memory.put(i, SCRIBBLE);
            }
            chunks[index] = null;
        }
    }

    /** Releases every chunk handed out so far. */
    void releaseAll() {
        for (int i = 0; i < chunks.length; i++) {
            release(i);
        }
    }

    /** @return how many times {@link #chunkFor} was called. */
    int chunkForCalls() {
        return chunkForCalls;
    }

    /** @return how many chunks were created, counting re-creations after a release. */
    int chunksCreated() {
        return chunksCreated;
    }

    /** @return the number of chunks the memory spans. */
    int chunkCount() {
        return chunks.length;
    }

    /** @return the source bytes, read-only, position 0. */
    ByteBuffer bytes() {
        return source.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }
}
