package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;
import io.actcache.codec.Codec;
import io.actcache.format.NpyHeader;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import org.agrona.SemanticVersion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.actcache.store.ListColumnDescriptor.*;

/**
 * Reads and writes the files of columns: creating them with their headers, appending data with positional
 * channel writes past the committed length, updating NPY headers, cutting uncommitted bytes, forcing, and
 * handing out mapped views. Owns the store's bounded channel and mapping caches. Knows nothing of commits:
 * {@link ActivationStore} decides what is committed. One thread only (its {@link OverlappedChecksums} helper only
 * computes checksums of pieces the calling thread is writing).
 */
final class ColumnFiles implements AutoCloseable {
    /** Bytes before the data of a RAW DENSE column file: the padded NPY header. */
    static final int NPY_HEADER_SIZE = (int) Manifest.DATA_OFFSET;
    /** Version of the LIST file layouts. */
    static final int LIST_VERSION = SemanticVersion.compose(1, 0, 0);

    private final Path dir;
    private final int blockSize;
    private final FileLayer layer;
    private final ChannelCache channels;
    private final MappingCache mappings;
    private final BlockColumns blockColumns;
    private final OverlappedChecksums checksums;
    private long bytesWritten;
    private long itemRecordsRead;

    ColumnFiles(final Path dir, final StoreOptions options, final int checksumBlockSize,
        final int compressionBlockSize, final boolean writable) {
        this.dir = dir;
        this.blockSize = checksumBlockSize;
        this.layer = options.fileLayer();
        this.channels = writable ? new ChannelCache(layer, options.maxOpenFiles()) : null;
        this.mappings = new MappingCache(options);
        this.blockColumns = new BlockColumns(dir, compressionBlockSize, channels, mappings,
            options.maxDecompressedBlocks());
        this.checksums = new OverlappedChecksums("actcache-checksum " + dir);
    }

    /**
     * @param columnId a column id.
     * @param kind     its kind.
     * @return every file of the column.
     */
    List<Path> files(final long columnId, final ColumnKind kind) {
        return files(columnId, kind, Codec.RAW);
    }

    /**
     * @param columnId a column id.
     * @param kind     its kind.
     * @param codec    its codec.
     * @return every file of the column.
     */
    List<Path> files(final long columnId, final ColumnKind kind, final Codec codec) {
        if (codec.isBlockCompressed()) {
            return blockColumns.files(columnId);
        }
        if (kind == ColumnKind.LIST) {
            return List.of(listDataFile(columnId), itemsFile(columnId), checksumFile(columnId));
        }
        return List.of(StoreFiles.columnFile(dir, columnId), checksumFile(columnId));
    }

    /**
     * @param descriptor a column.
     * @return the file holding its data.
     */
    Path dataFile(final ColumnDescriptor descriptor) {
        if (descriptor.codec().isBlockCompressed()) {
            return blockColumns.dataFile(descriptor.columnId());
        }
        return descriptor.kind() == ColumnKind.LIST ? listDataFile(descriptor.columnId())
            : StoreFiles.columnFile(dir, descriptor.columnId());
    }

    /**
     * @param descriptor a committed column.
     * @return the apparent size of its files once cut to the committed length, without touching the disk.
     */
    long committedFileBytes(final ColumnDescriptor descriptor) {
        if (descriptor.codec().isBlockCompressed()) {
            return blockColumns.committedFileBytes(descriptor);
        }
        final long checksums = ChecksumDescriptor.entryOffset(descriptor.byteSize() / blockSize);
        if (descriptor.kind() == ColumnKind.LIST) {
            return HEADER_LENGTH + descriptor.byteSize() + itemRecordOffset(descriptor.shape().dim(0)) + checksums;
        }
        return NPY_HEADER_SIZE + descriptor.byteSize() + checksums;
    }

    /** @return bytes written through this object: data, headers, item records. */
    long bytesWritten() {
        return bytesWritten + blockColumns.bytesWritten();
    }

    /** @return item records of LIST columns read since the store opened (merges must not read them). */
    long itemRecordsRead() {
        return itemRecordsRead;
    }

    /** @return the block-compressed columns' files and decompressed block pool. */
    BlockColumns blockColumns() {
        return blockColumns;
    }

    /** @return the mapping cache, for accounting. */
    MappingCache mappings() {
        return mappings;
    }

    /** @return open column files. */
    int openFiles() {
        return channels == null ? 0 : channels.openFiles();
    }

    // ------------------------------------------------------------------------------------------------ DENSE

    /**
     * Creates a DENSE column file holding {@code data}.
     *
     * @return its descriptor (uncommitted).
     */
    ColumnDescriptor createDense(final long columnId, final TensorView data, final String key) {
        return createDense(columnId, Codec.RAW, data, key);
    }

    /**
     * Creates a DENSE column holding {@code data} with a codec; a block-compressed codec needs rank at least 1.
     *
     * @return its descriptor (uncommitted).
     */
    ColumnDescriptor createDense(final long columnId, final Codec codec, final TensorView data, final String key) {
        if (codec.isBlockCompressed()) {
            return blockColumns.create(columnId, codec, data, key);
        }
        final Path file = StoreFiles.columnFile(dir, columnId);
        write(channels.channel(file, true), file, 0, NpyHeader.encodePadded(data.dtype(), data.shape(),
            NPY_HEADER_SIZE), key);
        createChecksumFile(columnId, key);
        final int tail = writeChecksummed(columnId, file, NPY_HEADER_SIZE, 0, 0, 0, data, key);
        return ColumnDescriptor.dense(columnId, data.dtype(), data.shape(), tail);
    }

    /**
     * Writes {@code data} after the committed rows of a DENSE column.
     *
     * @param current the column as committed or staged.
     * @param grown   its shape after the append (validated by the caller).
     * @return the grown descriptor (uncommitted).
     */
    ColumnDescriptor appendDense(final ColumnDescriptor current, final Shape grown, final TensorView data,
        final String key) {
        if (current.codec().isBlockCompressed()) {
            return blockColumns.append(current, grown, data, key);
        }
        final Path file = dataFile(current);
        final int tail = writeChecksummed(current.columnId(), file, NPY_HEADER_SIZE, current.byteSize(),
            current.tailCrc(), 0, data, key);
        return current.grown(grown, grown.byteSize(current.dtype()), tail);
    }

    /**
     * @param descriptor a committed DENSE column.
     * @param key        its key, for messages.
     * @return a view of its committed data.
     */
    TensorView dense(final ColumnDescriptor descriptor, final String key) {
        if (descriptor.codec().isBlockCompressed()) {
            return blockColumns.view(descriptor, key);
        }
        final Path file = dataFile(descriptor);
        return new TensorView(descriptor.dtype(), descriptor.shape(),
            new ColumnMemory(mappings, descriptor.columnId(), file, NPY_HEADER_SIZE + descriptor.byteSize(), key),
            NPY_HEADER_SIZE);
    }

    /**
     * Rewrites the changed prefix of a DENSE column's NPY header after a commit (dim 0 only grows, so its text
     * only grows); LIST columns have no shape header.
     *
     * @param descriptor the committed column.
     * @param whole      whether to rewrite the whole padded header (recovery).
     */
    void updateHeader(final ColumnDescriptor descriptor, final boolean whole) {
        if (descriptor.kind() != ColumnKind.DENSE || descriptor.codec().isBlockCompressed()) {
            return;
        }
        final ByteBuffer header = NpyHeader.encodePadded(descriptor.dtype(), descriptor.shape(), NPY_HEADER_SIZE);
        if (!whole) {
            header.limit(NpyHeader.variablePrefixLength(descriptor.dtype(), descriptor.shape()));
        }
        final Path file = dataFile(descriptor);
        write(channels.channel(file, false), file, 0, header, null);
    }

    /**
     * Recovery: rewrites a DENSE column's whole NPY header when it differs from the committed descriptor. No commit
     * forces its header rewrite, so after a crash a header may be older than the commit recovered to, or (a
     * checkpoint forced it but its manifest was lost) newer.
     *
     * @param descriptor the committed column.
     * @return true when the header was rewritten.
     */
    boolean repairHeader(final ColumnDescriptor descriptor) {
        if (descriptor.kind() != ColumnKind.DENSE || descriptor.codec().isBlockCompressed()) {
            return false;
        }
        final ByteBuffer expected = NpyHeader.encodePadded(descriptor.dtype(), descriptor.shape(), NPY_HEADER_SIZE);
        final Path file = dataFile(descriptor);
        final FileChannel channel = channels.channel(file, false);
        final ByteBuffer actual = ByteBuffer.allocate(NPY_HEADER_SIZE);
        try {
            readFully(channel, actual, 0, file);
        } catch (final IOException e) {
            throw new StoreIOException("cannot read the NPY header of " + file + ": " + e, e);
        }
        if (actual.flip().equals(expected)) {
            return false;
        }
        write(channel, file, 0, expected, null);
        return true;
    }

    // ------------------------------------------------------------------------------------------------ LIST

    /**
     * Creates the two files of an empty LIST column.
     *
     * @return its descriptor (uncommitted, no items).
     */
    ColumnDescriptor createList(final long columnId, final DType dtype, final String key) {
        final Path data = listDataFile(columnId);
        final Path items = itemsFile(columnId);
        write(channels.channel(data, true), data, 0, listHeader(DATA_MAGIC, dtype), key);
        write(channels.channel(items, true), items, 0, listHeader(ITEMS_MAGIC, dtype), key);
        createChecksumFile(columnId, key);
        return new ColumnDescriptor(columnId, ColumnKind.LIST, dtype, io.actcache.codec.Codec.RAW, Shape.of(0), 0, 0);
    }

    /**
     * Writes one item after the committed items of a LIST column: its bytes, then its record.
     *
     * @return the grown descriptor (uncommitted).
     */
    ColumnDescriptor appendListItem(final ColumnDescriptor current, final TensorView item, final String key) {
        final long count = current.shape().dim(0);
        final long offset = nextItemOffset(current.byteSize());
        final Path data = listDataFile(current.columnId());
        final long gap = offset - HEADER_LENGTH - current.byteSize();
        final int tail = writeChecksummed(current.columnId(), data, HEADER_LENGTH, current.byteSize(),
            current.tailCrc(), gap, item, key);
        final ByteBuffer record = ByteBuffer.allocate(ITEM_RECORD_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        record.putLong(ITEM_DATA_OFFSET, offset).putInt(ITEM_RANK_OFFSET, item.shape().rank());
        for (int i = 0; i < item.shape().rank(); i++) {
            record.putLong(ITEM_DIMS_OFFSET + i * Long.BYTES, item.shape().dim(i));
        }
        final Path items = itemsFile(current.columnId());
        write(channels.channel(items, false), items, itemRecordOffset(count), record, key);
        return current.grown(Shape.of(count + 1), offset - HEADER_LENGTH + item.byteSize(), tail);
    }

    /**
     * @param descriptor a committed LIST column.
     * @param key        its key, for messages.
     * @return views of its items, in order.
     */
    List<TensorView> list(final ColumnDescriptor descriptor, final String key) {
        final long itemCount = descriptor.shape().dim(0);
        if (itemCount > Integer.MAX_VALUE / ITEM_RECORD_LENGTH) {
            throw new io.actcache.CapacityExceededException("key '" + Keys.escape(key) + "' holds " + itemCount
                + " list items; getList reads at most " + Integer.MAX_VALUE / ITEM_RECORD_LENGTH + " at once");
        }
        final int count = (int) itemCount;
        final Path items = itemsFile(descriptor.columnId());
        final ByteBuffer records = ByteBuffer.allocate(count * ITEM_RECORD_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        itemRecordsRead += count;
        try (FileChannel channel = FileChannel.open(items)) {
            while (records.hasRemaining()) {
                if (channel.read(records, HEADER_LENGTH + records.position()) < 0) {
                    throw new CorruptFileException("item table " + items + " of key '" + Keys.escape(key)
                        + "' ends at " + (HEADER_LENGTH + records.position()) + " bytes; " + count + " items ("
                        + itemRecordOffset(count) + " bytes) are committed");
                }
            }
        } catch (final java.nio.file.NoSuchFileException e) {
            throw new io.actcache.StaleColumnException("cannot read item table " + items + " of key '"
                + Keys.escape(key) + "': it no longer exists (the key was replaced, removed or compacted and a "
                + "checkpoint deleted its old files); a reader must refresh() and get the key again", e);
        } catch (final IOException e) {
            throw new StoreIOException("cannot read item table " + items + " of key '" + Keys.escape(key) + "': " + e, e);
        }
        final Path data = listDataFile(descriptor.columnId());
        final long dataEnd = HEADER_LENGTH + descriptor.byteSize();
        final ColumnMemory memory = new ColumnMemory(mappings, descriptor.columnId(), data, dataEnd, key);
        final List<TensorView> views = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            final int base = i * ITEM_RECORD_LENGTH;
            final long offset = records.getLong(base + ITEM_DATA_OFFSET);
            final int rank = records.getInt(base + ITEM_RANK_OFFSET);
            if (rank < 0 || rank > Shape.MAX_RANK) {
                throw new CorruptFileException("item table " + items + " record " + i + ": rank " + rank);
            }
            final long[] dims = new long[rank];
            for (int d = 0; d < rank; d++) {
                dims[d] = records.getLong(base + ITEM_DIMS_OFFSET + d * Long.BYTES);
            }
            final Shape shape = Shape.of(dims);
            if (offset < HEADER_LENGTH || offset % ITEM_ALIGNMENT != 0 || offset + shape.byteSize(descriptor.dtype())
                > dataEnd) {
                throw new CorruptFileException("item table " + items + " record " + i + ": item " + shape
                    + " at offset " + offset + " lies outside the committed data [" + HEADER_LENGTH + ", " + dataEnd
                    + ") of " + data);
            }
            views.add(new TensorView(descriptor.dtype(), shape, memory, offset));
        }
        return views;
    }

    // ------------------------------------------------------------------------------------------------ files

    /**
     * Cuts every file of a column back to its committed length.
     *
     * @param descriptor the committed column.
     * @param strict     whether a file shorter than committed is corruption (recovery) or ignored.
     */
    void truncateToCommitted(final ColumnDescriptor descriptor, final boolean strict) {
        if (descriptor.codec().isBlockCompressed()) {
            blockColumns.truncateToCommitted(descriptor, strict, (file, length) -> truncate(file, length, strict));
            return;
        }
        if (descriptor.kind() == ColumnKind.LIST) {
            truncate(listDataFile(descriptor.columnId()), HEADER_LENGTH + descriptor.byteSize(), strict);
            truncate(itemsFile(descriptor.columnId()), itemRecordOffset(descriptor.shape().dim(0)), strict);
        } else {
            truncate(dataFile(descriptor), NPY_HEADER_SIZE + descriptor.byteSize(), strict);
        }
        truncate(checksumFile(descriptor.columnId()),
            ChecksumDescriptor.entryOffset(descriptor.byteSize() / blockSize), strict);
    }

    /**
     * Forces a file's data to the device; a file already deleted is skipped.
     *
     * @param file a column file.
     */
    void force(final Path file) {
        if (!Files.exists(file)) {
            return;
        }
        try {
            channels.channel(file, false).force(false);
        } catch (final IOException e) {
            throw new StoreIOException("cannot force " + file + ": " + e, e);
        }
    }

    /**
     * Unmaps, closes and deletes a column file.
     *
     * @param columnId its column.
     * @param file     the file.
     */
    void delete(final long columnId, final Path file) {
        mappings.invalidate(columnId);
        blockColumns.release(columnId);
        channels.invalidate(file);
        try {
            layer.deleteIfExists(file);
        } catch (final IOException e) {
            throw new StoreIOException("cannot delete " + file + ": " + e, e);
        }
    }

    /**
     * Drops mappings and open channels of a column (replaced or removed).
     *
     * @param columnId the column.
     * @param kind     its kind.
     */
    void release(final long columnId, final ColumnKind kind) {
        mappings.invalidate(columnId);
        blockColumns.release(columnId);
        if (channels != null) {
            files(columnId, kind).forEach(channels::invalidate);
            if (kind == ColumnKind.DENSE) {
                blockColumns.files(columnId).forEach(channels::invalidate);
            }
        }
    }

    /** Unmaps everything and closes every file. Idempotent. */
    @Override
    public void close() {
        checksums.close();
        try {
            blockColumns.close();
            if (channels != null) {
                channels.close();
            }
        } finally {
            mappings.close();
        }
    }

    /**
     * Checks every block of a column's data against its checksums: the complete blocks against the
     * {@code .crc} file, the last partial block against the descriptor's tail CRC.
     *
     * @param descriptor a committed column.
     * @param key        its key, for messages.
     * @return bytes checked.
     * @throws CorruptFileException naming the file, key, block and offset of the first mismatch.
     */
    long verify(final ColumnDescriptor descriptor, final String key) {
        if (descriptor.codec().isBlockCompressed()) {
            return blockColumns.verify(descriptor, key);
        }
        final Path data = dataFile(descriptor);
        final Path sums = checksumFile(descriptor.columnId());
        final long dataStart = descriptor.kind() == ColumnKind.LIST ? HEADER_LENGTH : NPY_HEADER_SIZE;
        final long blocks = descriptor.byteSize() / blockSize;
        final ByteBuffer block = ByteBuffer.allocateDirect(blockSize);
        final CRC32C crc = new CRC32C();
        try (FileChannel dataChannel = FileChannel.open(data); FileChannel sumChannel = FileChannel.open(sums)) {
            checkChecksumHeader(sumChannel, sums);
            if (dataChannel.size() < dataStart + descriptor.byteSize()) {
                throw new CorruptFileException("column file " + data + " of key '" + Keys.escape(key) + "' holds "
                    + dataChannel.size() + " bytes, " + (dataStart + descriptor.byteSize()) + " are committed (truncated?)");
            }
            if (sumChannel.size() < ChecksumDescriptor.entryOffset(blocks)) {
                throw new CorruptFileException("checksum file " + sums + " of key '" + Keys.escape(key) + "' holds "
                    + sumChannel.size() + " bytes, " + ChecksumDescriptor.entryOffset(blocks) + " expected (truncated?)");
            }
            final ByteBuffer stored = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (long b = 0; b <= blocks; b++) {
                final long length = Math.min(blockSize, descriptor.byteSize() - b * blockSize);
                if (length == 0) {
                    break;
                }
                readFully(dataChannel, block.clear().limit((int) length), dataStart + b * blockSize, data);
                crc.reset();
                crc.update(block.flip());
                final int expected;
                if (b < blocks) {
                    readFully(sumChannel, stored.clear(), ChecksumDescriptor.entryOffset(b), sums);
                    expected = stored.getInt(0);
                } else {
                    expected = descriptor.tailCrc();
                }
                if ((int) crc.getValue() != expected) {
                    // Either the data or the stored CRC is damaged: name where the expected value came from.
                    throw new CorruptFileException(String.format("key '%s': block %d of %s (bytes [%d, %d)) fails "
                        + "its CRC32C: expected 0x%08x (%s), computed 0x%08x", Keys.escape(key), b, data,
                        dataStart + b * blockSize, dataStart + b * blockSize + length, expected,
                        b < blocks ? "entry " + b + " of " + sums : "the descriptor's tail CRC", (int) crc.getValue()));
                }
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot verify key '" + Keys.escape(key) + "' (" + data + "): " + e, e);
        }
        return descriptor.byteSize();
    }

    private void createChecksumFile(final long columnId, final String key) {
        final Path file = checksumFile(columnId);
        final ByteBuffer header = ByteBuffer.allocate(ChecksumDescriptor.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(ChecksumDescriptor.MAGIC_OFFSET, ChecksumDescriptor.MAGIC)
            .putInt(ChecksumDescriptor.VERSION_OFFSET, LIST_VERSION)
            .put(ChecksumDescriptor.ALGORITHM_OFFSET, (byte) ChecksumDescriptor.ALGORITHM_CRC32C)
            .putInt(ChecksumDescriptor.BLOCK_SIZE_OFFSET, blockSize);
        final CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, ChecksumDescriptor.HEADER_CRC_OFFSET);
        header.putInt(ChecksumDescriptor.HEADER_CRC_OFFSET, (int) crc.getValue());
        write(channels.channel(file, true), file, 0, header, key);
    }

    private void checkChecksumHeader(final FileChannel channel, final Path file) throws IOException {
        final ByteBuffer header = ByteBuffer.allocate(ChecksumDescriptor.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, header, 0, file);
        final CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, ChecksumDescriptor.HEADER_CRC_OFFSET);
        if (header.getInt(ChecksumDescriptor.MAGIC_OFFSET) != ChecksumDescriptor.MAGIC
            || header.getInt(ChecksumDescriptor.HEADER_CRC_OFFSET) != (int) crc.getValue()) {
            throw new CorruptFileException("checksum file " + file + " has a damaged header (magic or header CRC32C)");
        }
        final int algorithm = header.get(ChecksumDescriptor.ALGORITHM_OFFSET);
        if (algorithm != ChecksumDescriptor.ALGORITHM_CRC32C) {
            throw new CorruptFileException("checksum file " + file + " uses unknown algorithm id " + algorithm
                + " (this build knows 1 = CRC32C)");
        }
        final int size = header.getInt(ChecksumDescriptor.BLOCK_SIZE_OFFSET);
        if (size != blockSize) {
            throw new CorruptFileException("checksum file " + file + " has block size " + size + ", the store uses "
                + blockSize);
        }
    }

    /**
     * Writes {@code data} at {@code dataStart + oldBytes + gap} of a column's data file, continuing the column's
     * block checksums over {@code gap} zero bytes then {@code data} (after {@code oldBytes} committed data bytes
     * whose last partial block has CRC {@code oldTail}); large pieces are checksummed while they are written. Writes
     * the CRC of every block this completes to the {@code .crc} file.
     *
     * @return the CRC32C of the new last partial block (0 when the data ends on a block boundary).
     */
    private int writeChecksummed(final long columnId, final Path dataFile, final long dataStart, final long oldBytes,
        final int oldTail, final long gap, final TensorView data, final String key) {
        final CRC32C crc = new CRC32C();
        final long partial = oldBytes % blockSize;
        if (partial > 0) {
            // Re-read the committed part of the last block (at most one block) to continue its CRC, and check it.
            final ByteBuffer head = ByteBuffer.allocateDirect((int) partial);
            try {
                readFully(channels.channel(dataFile, false), head, dataStart + oldBytes - partial, dataFile);
            } catch (final IOException e) {
                throw new StoreIOException("cannot read " + dataFile + " for key '" + Keys.escape(key) + "': " + e, e);
            }
            crc.update(head.flip());
            if ((int) crc.getValue() != oldTail) {
                throw new CorruptFileException(String.format("key '%s': the last block of %s (bytes [%d, %d)) fails "
                    + "its CRC32C before an append: expected 0x%08x, computed 0x%08x", Keys.escape(key), dataFile,
                    dataStart + oldBytes - partial, dataStart + oldBytes, oldTail, (int) crc.getValue()));
            }
        }
        final ChecksumAppender appender = new ChecksumAppender(crc, oldBytes);
        if (gap > 0) {
            appender.accept(ByteBuffer.allocate((int) gap));
        }
        final long position = dataStart + oldBytes + gap;
        final FileChannel channel = channels.channel(dataFile, false);
        try {
            // The gap is committed (and checksummed) as zeros, so write them: the file must reach the committed end
            // even when no data follows, and bytes a failed append left there must not stay under the checksum.
            if (gap > 0) {
                writeFully(channel, ByteBuffer.allocate((int) gap), dataStart + oldBytes);
            }
            checksums.write(data, (piece, offset) -> writeFully(channel, piece, position + offset), appender);
        } catch (final IOException e) {
            throw new StoreIOException("cannot write " + data.byteSize() + " bytes for key '" + Keys.escape(key)
                + "' at offset " + position + " of " + dataFile + ": " + e, e);
        }
        if (appender.completed.position() > 0) {
            final Path file = checksumFile(columnId);
            write(channels.channel(file, false), file, ChecksumDescriptor.entryOffset(appender.firstBlock),
                appender.completed.flip(), key);
        }
        return appender.position % blockSize == 0 ? 0 : (int) crc.getValue();
    }

    /** Feeds bytes to a running CRC, collecting the CRC of each block completed. */
    private final class ChecksumAppender implements java.util.function.Consumer<ByteBuffer> {
        private final CRC32C crc;
        private final long firstBlock;
        private long position;
        private ByteBuffer completed = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);

        ChecksumAppender(final CRC32C crc, final long position) {
            this.crc = crc;
            this.position = position;
            this.firstBlock = position / blockSize;
        }

        @Override
        public void accept(final ByteBuffer bytes) {
            while (bytes.hasRemaining()) {
                final int n = (int) Math.min(bytes.remaining(), blockSize - position % blockSize);
                final int limit = bytes.limit();
                crc.update(bytes.limit(bytes.position() + n));
                bytes.limit(limit);
                position += n;
                if (position % blockSize == 0) {
                    if (!completed.hasRemaining()) {
                        completed = ByteBuffer.allocate(completed.capacity() * 2).order(ByteOrder.LITTLE_ENDIAN)
                            .put(completed.flip());
                    }
                    completed.putInt((int) crc.getValue());
                    crc.reset();
                }
            }
        }
    }

    private static void readFully(final FileChannel channel, final ByteBuffer into, final long position,
        final Path file) throws IOException {
        final int start = into.position();
        while (into.hasRemaining()) {
            if (channel.read(into, position + into.position() - start) < 0) {
                throw new CorruptFileException(file + " ends at " + (position + into.position() - start)
                    + " bytes, " + (position + into.limit() - start) + " needed (truncated?)");
            }
        }
    }

    private Path checksumFile(final long columnId) {
        return dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.CHECKSUM_EXTENSION);
    }

    private Path listDataFile(final long columnId) {
        return dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.LIST_EXTENSION);
    }

    private Path itemsFile(final long columnId) {
        return dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.ITEMS_EXTENSION);
    }

    private void truncate(final Path file, final long length, final boolean strict) {
        try {
            final FileChannel channel = channels.channel(file, false);
            if (channel.size() < length && strict) {
                throw new CorruptFileException("column file " + file + " holds " + channel.size() + " bytes but "
                    + length + " are committed: committed data was lost");
            }
            if (channel.size() > length) {
                channel.truncate(length);
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot cut uncommitted bytes of " + file + ": " + e, e);
        }
    }

    private void writeFully(final FileChannel channel, final ByteBuffer bytes, final long position)
        throws IOException {
        long at = position;
        while (bytes.hasRemaining()) {
            final int n = channel.write(bytes, at);
            at += n;
            bytesWritten += n;
        }
    }

    private void write(final FileChannel channel, final Path file, final long position, final ByteBuffer bytes,
        final String key) {
        try {
            long at = position;
            while (bytes.hasRemaining()) {
                final int n = channel.write(bytes, at);
                at += n;
                bytesWritten += n;
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot write " + file + (key == null ? "" : " for key '" + Keys.escape(key)
                + "'") + " at offset " + position + ": " + e, e);
        }
    }

    private static ByteBuffer listHeader(final int magic, final DType dtype) {
        final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC_OFFSET, magic).putInt(VERSION_OFFSET, LIST_VERSION).put(DTYPE_OFFSET, (byte) dtype.id());
        final CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, HEADER_CRC_OFFSET);
        header.putInt(HEADER_CRC_OFFSET, (int) crc.getValue());
        return header;
    }
}
