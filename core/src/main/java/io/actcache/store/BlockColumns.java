package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.StaleColumnException;
import io.actcache.StoreIOException;
import io.actcache.codec.BlockCodec;
import io.actcache.codec.BlockFileDescriptor;
import io.actcache.codec.BlockIndex;
import io.actcache.codec.BlockReader;
import io.actcache.codec.BlockWriter;
import io.actcache.codec.Codec;
import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.DType;
import io.actcache.tensor.MemoryChunk;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.actcache.codec.BlockFileDescriptor.DATA_MAGIC;
import static io.actcache.codec.BlockFileDescriptor.HEADER_LENGTH;
import static io.actcache.codec.BlockFileDescriptor.INDEX_MAGIC;
import static io.actcache.codec.BlockFileDescriptor.entryOffset;

/**
 * The files of block-compressed DENSE columns (codecs {@link Codec#LZ4} and {@link Codec#SHUFFLE_LZ4}): a data
 * file of compressed blocks and a block index ({@link BlockFileDescriptor}). Creates and appends through
 * {@link BlockWriter} past the committed ends, serves reads as {@link TensorView}s whose chunks are blocks
 * decompressed into the store's {@link BlockPool}, verifies every block, and cuts uncommitted bytes. Keeps each read
 * column's {@link BlockIndex}, extended as commits add entries. One thread only (the store's).
 */
final class BlockColumns implements AutoCloseable {
    /** What the store keeps of a column it has read: its live blocks and a reader over its mapped data file. */
    private static final class OpenColumn {
        final BlockIndex index;
        final BlockReader reader;
        long fileEnd;

        OpenColumn(final BlockIndex index, final BlockReader reader) {
            this.index = index;
            this.reader = reader;
        }
    }

    private final Path dir;
    private final int blockSize;
    private final ChannelCache channels;
    private final MappingCache mappings;
    private final BlockPool pool;
    private final Map<Long, OpenColumn> open = new HashMap<>();
    private final Map<String, BlockWriter> writers = new HashMap<>();
    /** Decoders of the columns read, one per codec and dtype: a column's reader holds no buffers of its own. */
    private final Map<String, BlockCodec> readCodecs = new HashMap<>();
    /**
     * One block's compressed bytes, when they are copied rather than read in place from a mapping (a block spanning
     * mapped chunks, the partial block an append continues, verify), and one block's raw bytes. Used in turn by the
     * store's one thread, each use ending before the next begins.
     */
    private ByteBuffer compressedScratch;
    private ByteBuffer rawScratch;
    private long bytesWritten;

    BlockColumns(final Path dir, final int blockSize, final ChannelCache channels, final MappingCache mappings,
        final int maxDecompressedBlocks) {
        this.dir = dir;
        this.blockSize = blockSize;
        this.channels = channels;
        this.mappings = mappings;
        this.pool = new BlockPool(blockSize, maxDecompressedBlocks);
    }

    Path dataFile(final long columnId) {
        return dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.BLOCKS_EXTENSION);
    }

    Path indexFile(final long columnId) {
        return dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.BLOCK_INDEX_EXTENSION);
    }

    List<Path> files(final long columnId) {
        return List.of(dataFile(columnId), indexFile(columnId));
    }

    /** @return the apparent size of the column's files at their committed length. */
    long committedFileBytes(final ColumnDescriptor descriptor) {
        return descriptor.fileBytes() + entryOffset(descriptor.blockEntries());
    }

    /** @return bytes written: headers, compressed blocks, entries. */
    long bytesWritten() {
        return bytesWritten;
    }

    /** @return the pool of decompressed blocks, for accounting. */
    BlockPool pool() {
        return pool;
    }

    /**
     * Creates a column's two files and writes {@code data} into them.
     *
     * @return its descriptor (uncommitted).
     */
    ColumnDescriptor create(final long columnId, final Codec codec, final TensorView data, final String key) {
        final Path blocks = dataFile(columnId);
        final Path entries = indexFile(columnId);
        write(channels.channel(blocks, true), blocks, BlockFileDescriptor.header(DATA_MAGIC, codec, data.dtype(),
            blockSize), key);
        write(channels.channel(entries, true), entries, BlockFileDescriptor.header(INDEX_MAGIC, codec, data.dtype(),
            blockSize), key);
        final ColumnDescriptor empty = new ColumnDescriptor(columnId, ColumnKind.DENSE, data.dtype(), codec,
            data.shape().withDim0(0), 0, 0, 0, HEADER_LENGTH);
        return append(empty, data.shape(), data, key);
    }

    /**
     * Writes {@code data} after the committed rows: at most one committed block is read back (the partial last
     * one, checked against its CRCs) and written again whole.
     *
     * @return the grown descriptor (uncommitted).
     */
    ColumnDescriptor append(final ColumnDescriptor current, final Shape grown, final TensorView data,
        final String key) {
        final BlockWriter writer = writers.computeIfAbsent(current.codec() + "/" + current.dtype(),
            name -> new BlockWriter(new BlockCodec(current.codec(), current.dtype(), blockSize), blockSize));
        final Path blocks = dataFile(current.columnId());
        try {
            final ByteBuffer partial = current.byteSize() % blockSize == 0 ? null
                : lastBlock(current, key, writer.codec());
            writer.begin(channels.channel(blocks, false), channels.channel(indexFile(current.columnId()), false),
                current.blockEntries(), current.fileBytes(), current.byteSize(), current.tailCrc(), partial);
            data.visitBytes(0, data.byteSize(), writer);
            final BlockWriter.State state = writer.finish();
            bytesWritten += state.fileBytes() - current.fileBytes()
                + (state.entries() - current.blockEntries()) * BlockFileDescriptor.ENTRY_LENGTH;
            return current.grownBlocks(grown, state.entries(), state.fileBytes(), state.lastEntryCrc());
        } catch (final UncheckedIOException e) {
            throw new StoreIOException("cannot append " + data.byteSize() + " bytes for key '" + Keys.escape(key)
                + "' to " + blocks + " and its block index: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Reads back the partial last block of a committed or staged column, through its last entry only (the cached
     * index holds committed entries only): the entry must be the one the descriptor names, and the block must pass
     * its CRC and decode to its length.
     */
    private ByteBuffer lastBlock(final ColumnDescriptor current, final String key, final BlockCodec codec) {
        final Path blocks = dataFile(current.columnId());
        final Path entries = indexFile(current.columnId());
        final ByteBuffer entry = ByteBuffer.allocate(BlockFileDescriptor.ENTRY_LENGTH);
        readFully(channels.channel(entries, false), entry, entryOffset(current.blockEntries() - 1),
            describe(entries, key));
        final long start = current.byteSize() - current.byteSize() % blockSize;
        final BlockIndex last = BlockIndex.ofLastEntry(blockSize, describe(entries, key), entry.flip(), start,
            current.blockEntries() - 1, current.fileBytes());
        last.checkEnd(current.byteSize(), current.tailCrc());
        final ByteBuffer compressed = compressedScratch();
        final BlockReader reader = new BlockReader(last, codec, (offset, length) -> {
            readFully(channels.channel(blocks, false), compressed.clear().limit(length), offset, describe(blocks, key));
            return compressed;
        }, describe(blocks, key));
        final ByteBuffer raw = rawScratch();
        final int length = reader.read(last.blocks() - 1, raw.clear());
        return raw.duplicate().position(0).limit(length);
    }

    /**
     * @param descriptor a committed column.
     * @param key        its key, for messages.
     * @return a view whose chunks are decompressed blocks.
     */
    TensorView view(final ColumnDescriptor descriptor, final String key) {
        final OpenColumn column = column(descriptor, key);
        final String description = "key '" + Keys.escape(key) + "' (" + dataFile(descriptor.columnId()) + ")";
        final long columnId = descriptor.columnId();
        final ChunkedMemory memory = new ChunkedMemory() {
            @Override
            public MemoryChunk chunkFor(final long position, final long requiredEnd) {
                return pool.chunk(columnId, (int) (position / blockSize), column.reader, description);
            }

            @Override
            public int copyDirect(final long position, final long stop, final ByteBuffer dst) {
                final int block = (int) (position / blockSize);
                if (position % blockSize != 0 || stop < position + column.index.rawLength(block)) {
                    return 0;
                }
                return pool.copyBlock(columnId, block, column.reader, dst, description);
            }

            @Override
            public String description() {
                return description;
            }
        };
        return new TensorView(descriptor.dtype(), descriptor.shape(), memory, 0);
    }

    /**
     * Reads the column's files afresh (not the cached index) and checks every header, entry and block: CRCs, and
     * that each block decodes to its indexed length.
     *
     * @return raw bytes checked.
     * @throws CorruptFileException naming key, file and block of the first problem.
     */
    long verify(final ColumnDescriptor descriptor, final String key) {
        final Path blocks = dataFile(descriptor.columnId());
        final Path entries = indexFile(descriptor.columnId());
        try (FileChannel data = FileChannel.open(blocks); FileChannel index = FileChannel.open(entries)) {
            final BlockIndex fresh = loadIndex(descriptor, key, index, data);
            final ByteBuffer compressed = compressedScratch();
            final BlockReader reader = new BlockReader(fresh, readCodec(descriptor), (offset, length) -> {
                readFully(data, compressed.clear().limit(length), offset, describe(blocks, key));
                return compressed;
            }, describe(blocks, key));
            final ByteBuffer raw = rawScratch();
            for (int b = 0; b < fresh.blocks(); b++) {
                reader.read(b, raw.clear());
            }
        } catch (final UncheckedIOException e) {
            throw new StoreIOException("cannot verify key '" + Keys.escape(key) + "' (" + blocks + "): "
                + e.getCause(), e.getCause());
        } catch (final IOException e) {
            throw new StoreIOException("cannot verify key '" + Keys.escape(key) + "' (" + blocks + "): " + e, e);
        }
        return descriptor.byteSize();
    }

    /**
     * @param descriptor a committed column.
     * @param key        its key.
     * @return compressed bytes of its live blocks (superseded rewrites of a last block not counted).
     */
    long compressedBytes(final ColumnDescriptor descriptor, final String key) {
        return column(descriptor, key).index.compressedBytes();
    }

    /** Cuts both files back to their committed length. */
    void truncateToCommitted(final ColumnDescriptor descriptor, final boolean strict,
        final java.util.function.BiConsumer<Path, Long> truncate) {
        truncate.accept(dataFile(descriptor.columnId()), descriptor.fileBytes());
        truncate.accept(indexFile(descriptor.columnId()), entryOffset(descriptor.blockEntries()));
    }

    /** Drops the cached index and pooled blocks of a column. */
    void release(final long columnId) {
        open.remove(columnId);
        pool.invalidate(columnId);
    }

    @Override
    public void close() {
        open.clear();
        pool.close();
    }

    private OpenColumn column(final ColumnDescriptor descriptor, final String key) {
        OpenColumn column = open.get(descriptor.columnId());
        if (column == null) {
            column = openColumn(descriptor, key);
            open.put(descriptor.columnId(), column);
        } else if (column.index.entries() < descriptor.blockEntries()) {
            final Path entries = indexFile(descriptor.columnId());
            try (FileChannel index = FileChannel.open(entries)) {
                addEntries(column.index, index, entries, descriptor, key);
            } catch (final NoSuchFileException e) {
                throw stale(entries, key, e);
            } catch (final IOException e) {
                throw new StoreIOException("cannot read block index " + entries + " of key '" + Keys.escape(key)
                    + "': " + e, e);
            }
            column.index.checkEnd(descriptor.byteSize(), descriptor.tailCrc());
        }
        column.fileEnd = Math.max(column.fileEnd, descriptor.fileBytes());
        return column;
    }

    private OpenColumn openColumn(final ColumnDescriptor descriptor, final String key) {
        final Path blocks = dataFile(descriptor.columnId());
        final Path entries = indexFile(descriptor.columnId());
        final BlockIndex index;
        try (FileChannel data = FileChannel.open(blocks); FileChannel indexChannel = FileChannel.open(entries)) {
            index = loadIndex(descriptor, key, indexChannel, data);
        } catch (final NoSuchFileException e) {
            throw stale(e.getFile() == null ? blocks : Path.of(e.getFile()), key, e);
        } catch (final IOException e) {
            throw new StoreIOException("cannot open the block files of key '" + Keys.escape(key) + "' (" + blocks
                + "): " + e, e);
        }
        final String description = describe(blocks, key);
        final OpenColumn[] self = new OpenColumn[1];
        final BlockReader reader = new BlockReader(index, readCodec(descriptor), (offset, length) -> {
            final MemoryChunk chunk = mappings.chunk(descriptor.columnId(), blocks, offset, offset + length,
                self[0].fileEnd, description);
            if (offset + length <= chunk.end()) {
                return chunk.slice((int) (offset - chunk.start()), length);
            }
            return gather(descriptor.columnId(), blocks, chunk, offset, length, self[0].fileEnd, description);
        }, description);
        self[0] = new OpenColumn(index, reader);
        return self[0];
    }

    /**
     * Copies a block that spans mapped chunks, piece by piece: a block (up to 16 MiB compressed) can span several
     * chunks (64 KiB at least), and even a block no larger than a chunk can start near a chunk's end.
     *
     * @param first the chunk holding the block's first byte.
     * @return the block's compressed bytes from index 0.
     */
    private ByteBuffer gather(final long columnId, final Path blocks, final MemoryChunk first, final long offset,
        final int length, final long fileEnd, final String description) {
        final ByteBuffer gathered = compressedScratch().clear();
        MemoryChunk chunk = first;
        long at = offset;
        while (true) {
            final int piece = (int) Math.min(chunk.end() - at, length - gathered.position());
            gathered.put(chunk.slice((int) (at - chunk.start()), piece));
            at += piece;
            if (gathered.position() == length) {
                return gathered.flip();
            }
            chunk = mappings.chunk(columnId, blocks, at, offset + length, fileEnd, description);
        }
    }

    private BlockCodec readCodec(final ColumnDescriptor descriptor) {
        return readCodecs.computeIfAbsent(descriptor.codec() + "/" + descriptor.dtype(),
            name -> new BlockCodec(descriptor.codec(), descriptor.dtype(), blockSize));
    }

    private ByteBuffer compressedScratch() {
        if (compressedScratch == null) {
            compressedScratch = ByteBuffer.allocateDirect(BlockCodec.maxCompressedLength(blockSize));
        }
        return compressedScratch;
    }

    private ByteBuffer rawScratch() {
        if (rawScratch == null) {
            rawScratch = ByteBuffer.allocateDirect(blockSize);
        }
        return rawScratch;
    }

    /** Reads both headers and the committed entries, checking them against the descriptor. */
    private BlockIndex loadIndex(final ColumnDescriptor descriptor, final String key, final FileChannel index,
        final FileChannel data) throws IOException {
        final Path blocks = dataFile(descriptor.columnId());
        final Path entries = indexFile(descriptor.columnId());
        checkHeader(data, blocks, DATA_MAGIC, descriptor, key);
        checkHeader(index, entries, INDEX_MAGIC, descriptor, key);
        if (data.size() < descriptor.fileBytes()) {
            throw new CorruptFileException("key '" + Keys.escape(key) + "': " + blocks + " holds " + data.size()
                + " bytes, " + descriptor.fileBytes() + " are committed (truncated?)");
        }
        final BlockIndex loaded = new BlockIndex(blockSize, describe(entries, key));
        addEntries(loaded, index, entries, descriptor, key);
        loaded.checkEnd(descriptor.byteSize(), descriptor.tailCrc());
        return loaded;
    }

    private void addEntries(final BlockIndex index, final FileChannel channel, final Path file,
        final ColumnDescriptor descriptor, final String key) throws IOException {
        final long from = index.entries();
        final long to = descriptor.blockEntries();
        if (channel.size() < entryOffset(to)) {
            throw new CorruptFileException("key '" + Keys.escape(key) + "': block index " + file + " holds "
                + channel.size() + " bytes, its " + to + " committed entries need " + entryOffset(to)
                + " (truncated block index)");
        }
        final int batch = 4096;
        final ByteBuffer bytes = ByteBuffer.allocate(batch * BlockFileDescriptor.ENTRY_LENGTH);
        for (long at = from; at < to; at += batch) {
            final int count = (int) Math.min(batch, to - at);
            bytes.clear().limit(count * BlockFileDescriptor.ENTRY_LENGTH);
            readFully(channel, bytes, entryOffset(at), describe(file, key));
            index.add(bytes.flip(), descriptor.fileBytes());
        }
    }

    private void checkHeader(final FileChannel channel, final Path file, final int magic,
        final ColumnDescriptor descriptor, final String key) throws IOException {
        final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH);
        if (channel.size() < HEADER_LENGTH) {
            throw new CorruptFileException("key '" + Keys.escape(key) + "': " + file + " holds " + channel.size()
                + " bytes, shorter than its " + HEADER_LENGTH + "-byte header (truncated?)");
        }
        readFully(channel, header, 0, describe(file, key));
        BlockFileDescriptor.checkHeader(header.flip(), magic, describe(file, key), descriptor.codec(),
            descriptor.dtype(), blockSize);
    }

    private static String describe(final Path file, final String key) {
        return file + " of key '" + Keys.escape(key) + "'";
    }

    private static StaleColumnException stale(final Path file, final String key, final IOException e) {
        return new StaleColumnException("cannot read " + file + " of key '" + Keys.escape(key) + "': it no longer "
            + "exists (the key was replaced, removed or compacted and a checkpoint deleted its old files); a reader "
            + "must refresh() and get the key again", e);
    }

    /** @param file the file and its key, for messages. */
    private static void readFully(final FileChannel channel, final ByteBuffer into, final long position,
        final String file) {
        try {
            final int start = into.position();
            while (into.hasRemaining()) {
                if (channel.read(into, position + into.position() - start) < 0) {
                    throw new CorruptFileException(file + " ends at " + (position + into.position() - start)
                        + " bytes, " + (position + into.limit() - start) + " needed (truncated?)");
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void write(final FileChannel channel, final Path file, final ByteBuffer bytes, final String key) {
        try {
            long at = 0;
            while (bytes.hasRemaining()) {
                at += channel.write(bytes, at);
            }
            bytesWritten += at;
        } catch (final IOException e) {
            throw new StoreIOException("cannot write the header of " + file + " for key '" + Keys.escape(key) + "': "
                + e, e);
        }
    }
}
