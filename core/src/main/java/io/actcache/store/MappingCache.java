package io.actcache.store;

import io.actcache.AlreadyClosedException;
import io.actcache.CorruptFileException;
import io.actcache.StaleColumnException;
import io.actcache.StoreIOException;
import io.actcache.tensor.MemoryChunk;
import org.agrona.IoUtil;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The store's bounded set of read-only mappings of column files, least recently used first out. Bounded in
 * count and in bytes; an evicted chunk is {@linkplain MemoryChunk#release() released} and then unmapped at
 * once, so the number of live mappings never exceeds the bound. Mapping a chunk opens the file, maps and closes
 * it again: mappings hold no file descriptors. One thread only (the store's).
 */
final class MappingCache implements AutoCloseable {
    /** Identifies one chunk of one column file. */
    private record ChunkKey(long columnId, long chunkIndex) {
    }

    private final int chunkShift;
    private final int maxChunks;
    private final long maxBytes;
    private final LinkedHashMap<ChunkKey, MemoryChunk> chunks = new LinkedHashMap<>(64, 0.75f, true);
    private long mappedBytes;
    private long mapCalls;
    private boolean closed;

    MappingCache(final StoreOptions options) {
        this.chunkShift = Long.numberOfTrailingZeros(options.chunkSize());
        this.maxChunks = options.maxMappedChunks();
        this.maxBytes = options.maxMappedBytes();
    }

    /**
     * Returns a live mapping of the chunk of {@code file} holding {@code position}, covering at least up to
     * {@code min(requiredEnd, chunk end)}.
     *
     * @param columnId    the column, for identity.
     * @param file        its file.
     * @param position    a file offset.
     * @param requiredEnd bytes needed up to here.
     * @param fileEnd     committed end of the file; the mapping never goes past it.
     * @param description what is mapped, for messages.
     * @return the chunk.
     */
    MemoryChunk chunk(final long columnId, final Path file, final long position, final long requiredEnd,
        final long fileEnd, final String description) {
        if (closed) {
            throw new AlreadyClosedException("store is closed: cannot read " + description);
        }
        final long chunkIndex = position >>> chunkShift;
        final ChunkKey key = new ChunkKey(columnId, chunkIndex);
        final long chunkStart = chunkIndex << chunkShift;
        final long needed = Math.min(requiredEnd, chunkStart + (1L << chunkShift));
        final MemoryChunk cached = chunks.get(key);
        if (cached != null) {
            if (cached.end() >= needed) {
                return cached;
            }
            unmap(chunks.remove(key));
        }
        final long mapEnd = Math.min(fileEnd, chunkStart + (1L << chunkShift));
        final MemoryChunk chunk = map(file, chunkStart, mapEnd - chunkStart, description);
        chunks.put(key, chunk);
        mappedBytes += chunk.length();
        evictBeyondBounds(chunk);
        return chunk;
    }

    /**
     * Unmaps every chunk of a column (its file is about to be deleted or the store closed).
     *
     * @param columnId the column.
     */
    void invalidate(final long columnId) {
        final Iterator<Map.Entry<ChunkKey, MemoryChunk>> entries = chunks.entrySet().iterator();
        while (entries.hasNext()) {
            final Map.Entry<ChunkKey, MemoryChunk> entry = entries.next();
            if (entry.getKey().columnId() == columnId) {
                entries.remove();
                unmap(entry.getValue());
            }
        }
    }

    /** @return live mappings. */
    int mappedChunks() {
        return chunks.size();
    }

    /** @return bytes currently mapped. */
    long mappedBytes() {
        return mappedBytes;
    }

    /** @return mappings made since the store opened. */
    long mapCalls() {
        return mapCalls;
    }

    /** Unmaps everything. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        final List<MemoryChunk> all = new ArrayList<>(chunks.values());
        chunks.clear();
        all.forEach(this::unmap);
    }

    private MemoryChunk map(final Path file, final long start, final long length, final String description) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() < start + length) {
                // Mapping past the end would fail (read-only) or fault on access: a committed byte is missing.
                throw new CorruptFileException("cannot read " + description + ": " + file + " holds " + channel.size()
                    + " bytes but " + (start + length) + " are committed (truncated?)");
            }
            final MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, start, length);
            mapCalls++;
            return new MemoryChunk(buffer, start);
        } catch (final NoSuchFileException e) {
            throw new StaleColumnException("cannot read " + description + ": " + file + " no longer exists "
                + "(the key was replaced, removed or compacted and a checkpoint deleted its old file); "
                + "a reader must refresh() and get the key again, a writer get it again", e);
        } catch (final IOException e) {
            throw new StoreIOException("cannot map " + file + " [" + start + ", " + (start + length) + ") for "
                + description + ": " + e, e);
        }
    }

    private void evictBeyondBounds(final MemoryChunk keep) {
        final Iterator<MemoryChunk> eldest = chunks.values().iterator();
        while ((chunks.size() > maxChunks || mappedBytes > maxBytes) && eldest.hasNext()) {
            final MemoryChunk chunk = eldest.next();
            if (chunk != keep) {
                eldest.remove();
                unmap(chunk);
            }
        }
    }

    private void unmap(final MemoryChunk chunk) {
        chunk.release();
        mappedBytes -= chunk.length();
        IoUtil.unmap(chunk.byteBuffer());
    }
}
