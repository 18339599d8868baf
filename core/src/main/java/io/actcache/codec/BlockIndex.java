package io.actcache.codec;

import io.actcache.CorruptFileException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

import static io.actcache.codec.BlockFileDescriptor.*;

/**
 * The live blocks of a block-compressed column, decoded from the committed entries of its block index and checked
 * as they are added: each entry's CRC32C, raw offsets that continue or supersede the last block, lengths within the
 * block size and the committed data file. Block {@code b} holds raw bytes {@code [b B, b B + rawLength(b))}.
 * Grows by {@link #add} as later commits append entries (entries are never rewritten). Heap arrays of 24 bytes per
 * block held; one thread only.
 */
public final class BlockIndex {
    private final int blockSize;
    private final int maxCompressed;
    private final String file;
    private long entries;
    private int blocks;
    /** The first block held; the arrays hold blocks {@code [firstBlock, blocks)}. Zero but in {@link #ofLastEntry}. */
    private int firstBlock;
    private long[] fileOffsets = new long[16];
    private int[] compressedLengths = new int[16];
    private int[] rawLengths = new int[16];
    private int[] crcs = new int[16];
    private int lastEntryCrc;

    /**
     * @param blockSize raw bytes per block.
     * @param file      the block index file, for messages.
     */
    public BlockIndex(final int blockSize, final String file) {
        this.blockSize = blockSize;
        this.maxCompressed = BlockCodec.maxCompressedLength(blockSize);
        this.file = file;
    }

    /**
     * An index of one block: the last live block of a column, from its entry alone (an append reads back only
     * this block). Blocks before it are not known and take no memory; block numbers stay those of the whole column.
     *
     * @param blockSize  raw bytes per block.
     * @param file       the index file, for messages.
     * @param entry      the entry's 32 bytes.
     * @param rawOffset  the raw offset the entry must have.
     * @param entryNumber its entry number, for messages.
     * @param fileBytes  committed data file length.
     * @return the index; {@link #blocks()} is the column's block count.
     */
    public static BlockIndex ofLastEntry(final int blockSize, final String file, final ByteBuffer entry,
        final long rawOffset, final long entryNumber, final long fileBytes) {
        final BlockIndex index = new BlockIndex(blockSize, file);
        final int block = Math.toIntExact(rawOffset / blockSize);
        index.firstBlock = block;
        index.blocks = block;
        index.entries = entryNumber;
        // With no block held before it, an entry at any raw offset but this block's is refused.
        index.add(entry, fileBytes);
        return index;
    }

    /**
     * Decodes and checks entries appended after those already added.
     *
     * @param bytes     whole entries, from index 0 to the limit, little-endian.
     * @param fileBytes committed length of the data file: every block must lie inside it.
     * @throws CorruptFileException naming the index file and entry of the first problem.
     */
    public void add(final ByteBuffer bytes, final long fileBytes) {
        final ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (in.limit() % ENTRY_LENGTH != 0) {
            throw new IllegalArgumentException(in.limit() + " bytes are not whole entries of " + ENTRY_LENGTH);
        }
        final CRC32C crc = new CRC32C();
        for (int at = 0; at < in.limit(); at += ENTRY_LENGTH) {
            final long entry = entries;
            crc.reset();
            crc.update(in.duplicate().position(at).limit(at + ENTRY_CRC_OFFSET));
            if (in.getInt(at + ENTRY_CRC_OFFSET) != (int) crc.getValue()) {
                throw corrupt(entry, "fails its CRC32C");
            }
            final long rawOffset = in.getLong(at + RAW_OFFSET_OFFSET);
            final long fileOffset = in.getLong(at + FILE_OFFSET_OFFSET);
            final int compressed = in.getInt(at + COMPRESSED_LENGTH_OFFSET);
            final int raw = in.getInt(at + RAW_LENGTH_OFFSET);
            if (raw <= 0 || raw > blockSize || compressed <= 0 || compressed > maxCompressed) {
                throw corrupt(entry, "has raw length " + raw + " and compressed length " + compressed
                    + "; a block holds 1.." + blockSize + " raw and 1.." + maxCompressed + " compressed bytes");
            }
            if (fileOffset < HEADER_LENGTH || fileOffset > fileBytes - compressed) {
                throw corrupt(entry, "places its block at file bytes [" + fileOffset + ", " + (fileOffset + compressed)
                    + "), outside the committed data [" + HEADER_LENGTH + ", " + fileBytes + ")");
            }
            final boolean held = blocks > firstBlock;
            final boolean supersedes = held && rawOffset == (long) (blocks - 1) * blockSize;
            if (supersedes && raw <= rawLength(blocks - 1)) {
                throw corrupt(entry, "rewrites block " + (blocks - 1) + " with " + raw + " raw bytes, not more than its "
                    + rawLength(blocks - 1));
            }
            if (!supersedes) {
                if (rawOffset != (long) blocks * blockSize || held && rawLength(blocks - 1) != blockSize) {
                    throw corrupt(entry, "starts at raw offset " + rawOffset + ", expected " + (held
                        ? (long) (blocks - 1) * blockSize + " or, after a full block, " : "") + (long) blocks * blockSize);
                }
                grow();
                blocks++;
            }
            final int b = blocks - 1 - firstBlock;
            fileOffsets[b] = fileOffset;
            compressedLengths[b] = compressed;
            rawLengths[b] = raw;
            crcs[b] = in.getInt(at + BLOCK_CRC_OFFSET);
            lastEntryCrc = in.getInt(at + ENTRY_CRC_OFFSET);
            entries++;
        }
    }

    /**
     * Checks that the entries end where the committed descriptor says.
     *
     * @param rawBytes      committed raw bytes.
     * @param lastEntryCrc  the descriptor's CRC32C of the last committed entry.
     * @throws CorruptFileException when they do not.
     */
    public void checkEnd(final long rawBytes, final int lastEntryCrc) {
        if (rawEnd() != rawBytes) {
            throw new CorruptFileException("block index " + file + ": its " + entries + " committed entries cover "
                + rawEnd() + " raw bytes, the store has " + rawBytes);
        }
        if (entries > 0 && this.lastEntryCrc != lastEntryCrc) {
            throw new CorruptFileException(String.format("block index %s: entry %d is not the one committed "
                + "(its CRC32C 0x%08x, the descriptor's 0x%08x)", file, entries - 1, this.lastEntryCrc, lastEntryCrc));
        }
    }

    /** @return entries added (live and superseded). */
    public long entries() {
        return entries;
    }

    /** @return live blocks. */
    public int blocks() {
        return blocks;
    }

    /** @return raw bytes the live blocks hold. */
    public long rawEnd() {
        return blocks == 0 ? 0 : (long) (blocks - 1) * blockSize + rawLength(blocks - 1);
    }

    /** @return raw bytes per block. */
    public int blockSize() {
        return blockSize;
    }

    /** @return the entry CRC32C of the last entry added (the committed descriptor keeps it). */
    public int lastEntryCrc() {
        return lastEntryCrc;
    }

    /** @return compressed bytes of the live blocks held. */
    public long compressedBytes() {
        long total = 0;
        for (int b = 0; b < blocks - firstBlock; b++) {
            total += compressedLengths[b];
        }
        return total;
    }

    /**
     * @param block a live block this index holds (every one, but in an index of the last entry only).
     * @return its first byte in the data file.
     */
    public long fileOffset(final int block) {
        return fileOffsets[block - firstBlock];
    }

    /**
     * @param block a live block this index holds (every one, but in an index of the last entry only).
     * @return its compressed length.
     */
    public int compressedLength(final int block) {
        return compressedLengths[block - firstBlock];
    }

    /**
     * @param block a live block this index holds (every one, but in an index of the last entry only).
     * @return its raw length.
     */
    public int rawLength(final int block) {
        return rawLengths[block - firstBlock];
    }

    /**
     * @param block a live block this index holds (every one, but in an index of the last entry only).
     * @return the CRC32C of its compressed bytes.
     */
    public int crc(final int block) {
        return crcs[block - firstBlock];
    }

    /**
     * Encodes an entry.
     *
     * @return the entry, 32 bytes, flipped for writing.
     */
    public static ByteBuffer encodeEntry(final long rawOffset, final long fileOffset, final int compressedLength,
        final int rawLength, final int blockCrc) {
        final ByteBuffer entry = ByteBuffer.allocate(ENTRY_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        entry.putLong(RAW_OFFSET_OFFSET, rawOffset).putLong(FILE_OFFSET_OFFSET, fileOffset)
            .putInt(COMPRESSED_LENGTH_OFFSET, compressedLength).putInt(RAW_LENGTH_OFFSET, rawLength)
            .putInt(BLOCK_CRC_OFFSET, blockCrc);
        final CRC32C crc = new CRC32C();
        crc.update(entry.array(), 0, ENTRY_CRC_OFFSET);
        return entry.putInt(ENTRY_CRC_OFFSET, (int) crc.getValue());
    }

    private void grow() {
        if (blocks - firstBlock == fileOffsets.length) {
            final int size = fileOffsets.length * 2;
            fileOffsets = Arrays.copyOf(fileOffsets, size);
            compressedLengths = Arrays.copyOf(compressedLengths, size);
            rawLengths = Arrays.copyOf(rawLengths, size);
            crcs = Arrays.copyOf(crcs, size);
        }
    }

    private CorruptFileException corrupt(final long entry, final String what) {
        return new CorruptFileException("block index " + file + ": entry " + entry + " (offset " + entryOffset(entry)
            + ") " + what);
    }
}
