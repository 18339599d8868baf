package io.actcache.codec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import static io.actcache.codec.BlockFileDescriptor.ENTRY_LENGTH;
import static io.actcache.codec.BlockFileDescriptor.entryOffset;

/**
 * Appends raw bytes to a block-compressed column past its committed end: fills a block buffer, compresses each
 * block as it completes, writes it after the committed data and its entry after the committed entries (positional
 * channel writes, nothing committed is overwritten), and compresses the last, partial block when finished. An
 * append that continues a committed partial block starts from its raw bytes ({@link #begin}) and writes it again
 * whole, superseding its entry. Cost: the appended bytes plus at most one block. One append at a time.
 */
public final class BlockWriter implements Consumer<ByteBuffer> {
    private final BlockCodec codec;
    private final int blockSize;
    private final ByteBuffer block;
    private final ByteBuffer compressed;
    private final CRC32C crc = new CRC32C();
    private FileChannel data;
    private FileChannel indexFile;
    private long entries;
    private long fileBytes;
    private long rawOffset;
    private int lastEntryCrc;
    /** Raw bytes at the start of the block buffer that the data file already holds: a committed partial block. */
    private int writtenLength;
    private ByteBuffer pendingEntries = ByteBuffer.allocate(ENTRY_LENGTH * 8).order(ByteOrder.LITTLE_ENDIAN);

    /**
     * @param codec     the column's codec.
     * @param blockSize raw bytes per block.
     */
    public BlockWriter(final BlockCodec codec, final int blockSize) {
        this.codec = codec;
        this.blockSize = blockSize;
        this.block = ByteBuffer.allocateDirect(blockSize);
        this.compressed = ByteBuffer.allocateDirect(BlockCodec.maxCompressedLength(blockSize));
    }

    /**
     * Starts an append.
     *
     * @param dataChannel  the data file, writable.
     * @param indexChannel the block index, writable.
     * @param committedEntries entries committed.
     * @param committedFileBytes committed length of the data file.
     * @param committedRaw raw bytes committed.
     * @param lastEntryCrc the CRC32C of the last committed entry.
     * @param partial      the raw bytes of the committed partial last block (position 0 to limit), or null.
     */
    public void begin(final FileChannel dataChannel, final FileChannel indexChannel, final long committedEntries,
        final long committedFileBytes, final long committedRaw, final int lastEntryCrc, final ByteBuffer partial) {
        this.data = dataChannel;
        this.indexFile = indexChannel;
        this.entries = committedEntries;
        this.fileBytes = committedFileBytes;
        this.lastEntryCrc = lastEntryCrc;
        this.rawOffset = committedRaw - committedRaw % blockSize;
        block.clear();
        if (partial != null) {
            block.put(partial.duplicate());
        }
        writtenLength = block.position();
        pendingEntries.clear();
    }

    /** @return the codec this writer compresses with (one thread: the writer's). */
    public BlockCodec codec() {
        return codec;
    }

    @Override
    public void accept(final ByteBuffer bytes) {
        while (bytes.hasRemaining()) {
            final int n = Math.min(bytes.remaining(), block.remaining());
            final int limit = bytes.limit();
            block.put(bytes.limit(bytes.position() + n));
            bytes.limit(limit);
            if (!block.hasRemaining()) {
                flushBlock();
            }
        }
    }

    /**
     * Compresses the partial last block, if the append added to it, and writes the pending entries. An append of
     * no bytes writes nothing: rewriting the committed partial block unchanged would give an entry whose raw end
     * does not grow, which the block index refuses.
     *
     * @return entries, data file bytes and last entry CRC after the append, for the uncommitted descriptor.
     */
    public State finish() {
        if (block.position() > writtenLength) {
            flushBlock();
        }
        writeEntries();
        return new State(entries, fileBytes, lastEntryCrc);
    }

    private void flushBlock() {
        final int rawLength = block.position();
        final int length = codec.compress(block, rawLength, compressed.clear());
        crc.reset();
        crc.update(compressed.duplicate().position(0).limit(length));
        try {
            final ByteBuffer out = compressed.duplicate().position(0).limit(length);
            long at = fileBytes;
            while (out.hasRemaining()) {
                at += data.write(out, at);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        final ByteBuffer entry = BlockIndex.encodeEntry(rawOffset, fileBytes, length, rawLength, (int) crc.getValue());
        lastEntryCrc = entry.getInt(BlockFileDescriptor.ENTRY_CRC_OFFSET);
        if (pendingEntries.remaining() < ENTRY_LENGTH) {
            writeEntries();
        }
        pendingEntries.put(entry);
        fileBytes += length;
        if (rawLength == blockSize) {
            rawOffset += blockSize;
            block.clear();
            writtenLength = 0;
        }
        // A partial block stays in the buffer: finish() is the only caller that flushes one.
    }

    private void writeEntries() {
        final int count = pendingEntries.position() / ENTRY_LENGTH;
        pendingEntries.flip();
        try {
            long at = entryOffset(entries);
            while (pendingEntries.hasRemaining()) {
                at += indexFile.write(pendingEntries, at);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
        entries += count;
        pendingEntries.clear();
    }

    /**
     * What an append leaves: the values the uncommitted descriptor records.
     *
     * @param entries      block index entries.
     * @param fileBytes    data file length.
     * @param lastEntryCrc CRC32C of the last entry.
     */
    public record State(long entries, long fileBytes, int lastEntryCrc) {
    }
}
