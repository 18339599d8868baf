package io.actcache.format;

import io.actcache.AlreadyClosedException;
import io.actcache.BadFileFormatException;
import io.actcache.StoreIOException;
import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.MemoryChunk;
import org.agrona.IoUtil;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Read-only regions of one input file (a safetensors or NPY file being read), handed to {@link
 * io.actcache.tensor.TensorView}s as {@link ChunkedMemory}, mapped lazily in chunks.
 *
 * <p>Each region (one tensor's bytes) is cut into chunks of {@code chunkSize} bytes counted from the region's start,
 * so no element straddles two chunks even when a file places a tensor at an offset that is not a multiple of its
 * dtype's width. A chunk is mapped on first use; at most {@code maxChunks} stay mapped (least recently used first
 * out), and an evicted chunk is {@linkplain MemoryChunk#release() released} and unmapped at once, as are all at
 * {@link #close()}. Mapping opens the file, checks that its size is still the size validated when its header was
 * read (a file cut short afterwards would fault on access), maps and closes it again: a reader holds no file
 * descriptor, so thousands of batch files can be open at once.
 *
 * <p>Progress: the first time a chunk's bytes are handed out for a region, they are reported to the
 * {@code bytesRead} callback, each byte of a region at most once. One thread at a time.
 */
final class MappedInputFile implements AutoCloseable {
    /** Default bytes per mapped chunk. */
    static final long DEFAULT_CHUNK_SIZE = 64L << 20;
    /** Default bound on live chunks per file. */
    static final int DEFAULT_MAX_CHUNKS = 4;

    private final Path file;
    private final String resource;
    private final long expectedSize;
    private final long chunkSize;
    private final int maxChunks;
    private final LongConsumer bytesRead;
    private final MappingBudget budget;
    /** Live chunks by absolute file offset of their first byte, least recently used first. */
    private final LinkedHashMap<Long, MemoryChunk> chunks = new LinkedHashMap<>(16, 0.75f, true);
    private long mapCalls;
    private boolean closed;

    /**
     * @param file         the file.
     * @param resource     the file as messages name it.
     * @param expectedSize the size its header was validated against.
     * @param chunkSize    bytes per chunk: a positive multiple of 8.
     * @param maxChunks    live chunks kept, at least 1.
     * @param bytesRead    receives the count of bytes first handed out, as they are.
     * @param budget       the bound this file shares with others read by the same thread, or null.
     */
    MappedInputFile(final Path file, final String resource, final long expectedSize, final long chunkSize,
        final int maxChunks, final LongConsumer bytesRead, final MappingBudget budget) {
        if (chunkSize <= 0 || chunkSize % Long.BYTES != 0 || chunkSize > Integer.MAX_VALUE - 7) {
            throw new IllegalArgumentException("chunk size " + chunkSize + " must be a positive multiple of 8 below 2 GiB");
        }
        if (maxChunks < 1) {
            throw new IllegalArgumentException("max chunks " + maxChunks + " must be at least 1");
        }
        this.file = file;
        this.resource = resource;
        this.expectedSize = expectedSize;
        this.chunkSize = chunkSize;
        this.maxChunks = maxChunks;
        this.bytesRead = bytesRead;
        this.budget = budget;
    }

    /**
     * @param offset      file offset of the region's first byte.
     * @param length      bytes in the region; {@code offset + length} within the validated size.
     * @param description what the region holds, for messages (file and tensor).
     * @return the region's memory; byte 0 is file byte {@code offset}.
     */
    ChunkedMemory region(final long offset, final long length, final String description) {
        if (offset < 0 || length < 0 || offset + length > expectedSize) {
            throw new IllegalArgumentException("region [" + offset + ", " + (offset + length) + ") is outside the "
                + expectedSize + " bytes of " + resource);
        }
        return new Region(offset, length, description);
    }

    /** @return chunks currently mapped. */
    int mappedChunks() {
        return chunks.size();
    }

    /** @return chunks mapped since opening. */
    long mapCalls() {
        return mapCalls;
    }

    /** Unmaps every chunk. Idempotent. */
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

    /** Unmaps a chunk its budget chose (the least recently used of all files sharing it). */
    void evict(final MemoryChunk chunk) {
        final Iterator<MemoryChunk> live = chunks.values().iterator();
        while (live.hasNext()) {
            final MemoryChunk candidate = live.next();
            if (candidate == chunk) {
                live.remove();
                release(candidate);
                return;
            }
        }
    }

    private MemoryChunk chunk(final Region region, final long position) {
        if (closed) {
            throw new AlreadyClosedException(resource + " is closed: cannot read " + region.description);
        }
        final long start = position / chunkSize * chunkSize;
        final long key = region.offset + start;
        MemoryChunk chunk = chunks.get(key);
        if (chunk == null) {
            chunk = map(key, Math.min(chunkSize, region.length - start), start);
            chunks.put(key, chunk);
            evictBeyondBound(chunk);
            if (budget != null) {
                budget.mapped(chunk, this);
            }
        } else if (budget != null) {
            budget.used(chunk);
        }
        return chunk;
    }

    private MemoryChunk map(final long fileOffset, final long length, final long regionStart) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            final long size = channel.size();
            if (size != expectedSize) {
                throw new BadFileFormatException(resource + ": changed while being read: it held " + expectedSize
                    + " bytes when its header was read, it holds " + size + " now");
            }
            final MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, fileOffset, length);
            mapCalls++;
            return new MemoryChunk(buffer, regionStart);
        } catch (final IOException e) {
            throw new StoreIOException(resource + ": cannot map [" + fileOffset + ", " + (fileOffset + length) + "): "
                + e, e);
        }
    }

    private void evictBeyondBound(final MemoryChunk keep) {
        final Iterator<MemoryChunk> eldest = chunks.values().iterator();
        while (chunks.size() > maxChunks && eldest.hasNext()) {
            final MemoryChunk chunk = eldest.next();
            if (chunk != keep) {
                eldest.remove();
                unmap(chunk);
            }
        }
    }

    /** Unmaps a chunk this file chose to drop, and tells the budget. */
    private void unmap(final MemoryChunk chunk) {
        if (budget != null) {
            budget.unmapped(chunk);
        }
        release(chunk);
    }

    private static void release(final MemoryChunk chunk) {
        chunk.release();
        IoUtil.unmap(chunk.byteBuffer());
    }

    /** One tensor's bytes. */
    private final class Region implements ChunkedMemory {
        private final long offset;
        private final long length;
        private final String description;
        /** Bytes of this region already reported as read: a prefix, since views read forward. */
        private long reported;

        Region(final long offset, final long length, final String description) {
            this.offset = offset;
            this.length = length;
            this.description = description;
        }

        @Override
        public MemoryChunk chunkFor(final long position, final long requiredEnd) {
            if (position < 0 || position >= length) {
                throw new IndexOutOfBoundsException("byte " + position + " out of [0, " + length + ") of " + description);
            }
            final MemoryChunk chunk = chunk(this, position);
            final long handedOut = Math.min(requiredEnd, chunk.end());
            if (handedOut > reported) {
                bytesRead.accept(handedOut - reported);
                reported = handedOut;
            }
            return chunk;
        }

        @Override
        public String description() {
            return description;
        }
    }
}
