package io.actcache.store;

import io.actcache.AlreadyClosedException;
import io.actcache.codec.BlockReader;
import io.actcache.tensor.MemoryChunk;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The store's bounded pool of decompressed blocks of block-compressed columns: at most {@code maxBlocks} off-heap
 * buffers of one block each, allocated once and reused, least recently used first out. An evicted block's chunk
 * is {@linkplain MemoryChunk#release() released} before its buffer is refilled, so a view never reads another
 * block's bytes (views check {@link MemoryChunk#isLive()} and ask again). One thread only (the store's).
 */
final class BlockPool implements AutoCloseable {
    /** One decompressed block. */
    private record BlockKey(long columnId, int block) {
    }

    /** A chunk and the pooled buffer under it. */
    private record Slot(MemoryChunk chunk, ByteBuffer buffer) {
    }

    private final int blockSize;
    private final int maxBlocks;
    private final LinkedHashMap<BlockKey, Slot> blocks = new LinkedHashMap<>(64, 0.75f, true);
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private int allocated;
    private long decompressions;
    private boolean closed;

    BlockPool(final int blockSize, final int maxBlocks) {
        this.blockSize = blockSize;
        this.maxBlocks = maxBlocks;
    }

    /**
     * @param columnId    the column.
     * @param block       a live block of it.
     * @param reader      the column's block reader (used on a miss).
     * @param description what is read, for messages.
     * @return a live chunk holding the block's raw bytes, its start the block's raw offset.
     */
    MemoryChunk chunk(final long columnId, final int block, final BlockReader reader, final String description) {
        checkOpen(description);
        final BlockKey key = new BlockKey(columnId, block);
        final int rawLength = reader.index().rawLength(block);
        final Slot cached = blocks.get(key);
        if (cached != null) {
            if (cached.chunk().length() == rawLength) {
                return cached.chunk();
            }
            // A later commit rewrote this partial last block with more bytes.
            recycle(blocks.remove(key));
        }
        final ByteBuffer buffer = take();
        try {
            reader.read(block, buffer);
        } catch (final RuntimeException e) {
            free.push(buffer);
            throw e;
        }
        decompressions++;
        final Slot slot = new Slot(new MemoryChunk(buffer.slice(0, rawLength), (long) block * blockSize), buffer);
        blocks.put(key, slot);
        return slot.chunk();
    }

    /**
     * Copies a whole block into {@code dst} at its position, advancing it: from the pool when the pool holds the
     * block, else decoded straight into {@code dst} without entering the pool, so a bulk copy neither evicts the
     * blocks views are reading nor pays a second copy out of a pooled buffer.
     *
     * @param columnId    the column.
     * @param block       a live block of it.
     * @param reader      the column's block reader (used on a miss).
     * @param dst         writable, with at least the block's raw length remaining; on a {@link
     *                    io.actcache.CorruptFileException} its bytes from its position are unspecified.
     * @param description what is read, for messages.
     * @return the block's raw length.
     */
    int copyBlock(final long columnId, final int block, final BlockReader reader, final ByteBuffer dst,
        final String description) {
        checkOpen(description);
        final int rawLength = reader.index().rawLength(block);
        final Slot cached = blocks.get(new BlockKey(columnId, block));
        if (cached != null && cached.chunk().length() == rawLength) {
            dst.put(cached.chunk().slice(0, rawLength));
            return rawLength;
        }
        reader.read(block, dst.slice(dst.position(), rawLength));
        dst.position(dst.position() + rawLength);
        decompressions++;
        return rawLength;
    }

    /**
     * Drops every block of a column (replaced, removed, or its file about to be deleted).
     *
     * @param columnId the column.
     */
    void invalidate(final long columnId) {
        final Iterator<Map.Entry<BlockKey, Slot>> entries = blocks.entrySet().iterator();
        while (entries.hasNext()) {
            final Map.Entry<BlockKey, Slot> entry = entries.next();
            if (entry.getKey().columnId() == columnId) {
                entries.remove();
                recycle(entry.getValue());
            }
        }
    }

    /** @return blocks decompressed since the store opened (misses of the pool). */
    long decompressions() {
        return decompressions;
    }

    /** @return off-heap bytes the pool holds. */
    long pooledBytes() {
        return (long) allocated * blockSize;
    }

    /** Releases every block and lets the buffers go. Idempotent. */
    @Override
    public void close() {
        closed = true;
        blocks.values().forEach(slot -> slot.chunk().release());
        blocks.clear();
        free.clear();
    }

    private void checkOpen(final String description) {
        if (closed) {
            throw new AlreadyClosedException("store is closed: cannot read " + description);
        }
    }

    private ByteBuffer take() {
        if (!free.isEmpty()) {
            return free.pop();
        }
        if (allocated < maxBlocks) {
            allocated++;
            return ByteBuffer.allocateDirect(blockSize);
        }
        final Iterator<Slot> eldest = blocks.values().iterator();
        final Slot victim = eldest.next();
        eldest.remove();
        victim.chunk().release();
        return victim.buffer();
    }

    private void recycle(final Slot slot) {
        slot.chunk().release();
        free.push(slot.buffer());
    }
}
