package io.actcache.codec;

import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.tensor.DType;
import org.agrona.SemanticVersion;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Layout of a block-compressed column: a data file ({@code columns/<id>.blk}) holding compressed blocks back to
 * back, and a block index ({@code columns/<id>.bix}) with one entry per block written. Both files start with the
 * same 64-byte header (their magics differ); everything is little-endian.
 *
 * <p>Header (both files):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |        Magic: 'ACZB' (data) or 'ACZI' (block index)           |
 *  +---------------------------------------------------------------+
 *  |                 Format Version (SemanticVersion)              |
 *  +---------------+---------------+---------------+---------------+
 *  |  Codec (u8)   |  DType (u8)   | Element Size  |   Reserved    |
 *  +---------------+---------------+---------------+---------------+
 *  |              Block Size: raw bytes per block (int32)          |
 *  +---------------------------------------------------------------+
 *  |                     Reserved, 0 (44 bytes)                   ...
 *  +---------------------------------------------------------------+
 *  |                  CRC32C of header bytes 0..59                 |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Block index entry, at {@code 64 + 32 i}:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |           Raw Offset (int64): first raw byte of the block     |
 *  +---------------------------------------------------------------+
 *  |        File Offset (int64): first byte in the data file       |
 *  +---------------------------------------------------------------+
 *  |                  Compressed Length (int32)                    |
 *  +---------------------------------------------------------------+
 *  |                     Raw Length (int32)                        |
 *  +---------------------------------------------------------------+
 *  |              CRC32C of the compressed bytes                   |
 *  +---------------------------------------------------------------+
 *  |               CRC32C of entry bytes 0..27                     |
 *  +---------------------------------------------------------------+
 * </pre>
 * Blocks hold {@code Block Size} raw bytes, the last one fewer. Entries are only ever appended: an append that
 * continues a partial last block writes the whole block again, compressed, after the committed data, and a new
 * entry with the same raw offset, which supersedes the one before it. So entry raw offsets never decrease, raw
 * ends strictly increase, and the live blocks are the entries not followed by one with the same raw offset.
 * Which entries and data bytes are committed is not in these files: the column descriptor in the journal record
 * (the commit point) carries the entry count, the data file length and the CRC32C of the last committed entry.
 */
public final class BlockFileDescriptor {
    /** Magic of the data file, "ACZB" little-endian. */
    public static final int DATA_MAGIC = 0x425A4341;
    /** Magic of the block index, "ACZI" little-endian. */
    public static final int INDEX_MAGIC = 0x495A4341;
    /** Version of both layouts. */
    public static final int VERSION = SemanticVersion.compose(1, 0, 0);

    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the format version. */
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    /** Offset of the codec id. */
    public static final int CODEC_OFFSET = VERSION_OFFSET + Integer.BYTES;
    /** Offset of the dtype id. */
    public static final int DTYPE_OFFSET = CODEC_OFFSET + 1;
    /** Offset of the element size (the shuffle's stride). */
    public static final int ELEMENT_SIZE_OFFSET = DTYPE_OFFSET + 1;
    /** Offset of the raw bytes per block. */
    public static final int BLOCK_SIZE_OFFSET = ELEMENT_SIZE_OFFSET + 2;
    /** Offset of the header CRC32C. */
    public static final int HEADER_CRC_OFFSET = 60;
    /** Bytes of the header of both files. */
    public static final int HEADER_LENGTH = HEADER_CRC_OFFSET + Integer.BYTES;

    /** Entry offset of the raw offset. */
    public static final int RAW_OFFSET_OFFSET = 0;
    /** Entry offset of the data file offset. */
    public static final int FILE_OFFSET_OFFSET = RAW_OFFSET_OFFSET + Long.BYTES;
    /** Entry offset of the compressed length. */
    public static final int COMPRESSED_LENGTH_OFFSET = FILE_OFFSET_OFFSET + Long.BYTES;
    /** Entry offset of the raw length. */
    public static final int RAW_LENGTH_OFFSET = COMPRESSED_LENGTH_OFFSET + Integer.BYTES;
    /** Entry offset of the CRC32C of the compressed bytes. */
    public static final int BLOCK_CRC_OFFSET = RAW_LENGTH_OFFSET + Integer.BYTES;
    /** Entry offset of the entry's own CRC32C. */
    public static final int ENTRY_CRC_OFFSET = BLOCK_CRC_OFFSET + Integer.BYTES;
    /** Bytes of one entry. */
    public static final int ENTRY_LENGTH = ENTRY_CRC_OFFSET + Integer.BYTES;

    /** Smallest block size (a power of two, so blocks end on element boundaries of every dtype). */
    public static final int MIN_BLOCK_SIZE = 4 << 10;
    /** Largest block size. */
    public static final int MAX_BLOCK_SIZE = 16 << 20;
    /** Default raw bytes per block, chosen with {@code CodecBenchmark} (see docs/DECISIONS.md). */
    public static final int DEFAULT_BLOCK_SIZE = 32 << 10;
    /**
     * Raw bytes per block of stores whose properties do not record {@code compression.block.size} (created before
     * it was recorded, when this was the default); not {@link #DEFAULT_BLOCK_SIZE}, which may change.
     */
    public static final int UNRECORDED_BLOCK_SIZE = 64 << 10;

    private BlockFileDescriptor() {
    }

    /**
     * @param entry an entry number.
     * @return its offset in the block index.
     */
    public static long entryOffset(final long entry) {
        return HEADER_LENGTH + entry * ENTRY_LENGTH;
    }

    /**
     * @param magic     {@link #DATA_MAGIC} or {@link #INDEX_MAGIC}.
     * @param codec     the column's codec.
     * @param dtype     its dtype.
     * @param blockSize raw bytes per block.
     * @return the header, flipped for writing.
     */
    public static ByteBuffer header(final int magic, final Codec codec, final DType dtype, final int blockSize) {
        final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC_OFFSET, magic).putInt(VERSION_OFFSET, VERSION).put(CODEC_OFFSET, (byte) codec.id())
            .put(DTYPE_OFFSET, (byte) dtype.id()).put(ELEMENT_SIZE_OFFSET, (byte) dtype.byteWidth())
            .putInt(BLOCK_SIZE_OFFSET, blockSize);
        final CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, HEADER_CRC_OFFSET);
        return header.putInt(HEADER_CRC_OFFSET, (int) crc.getValue());
    }

    /**
     * Checks a header against what the store expects of the column.
     *
     * @param header    the first {@link #HEADER_LENGTH} bytes of the file.
     * @param magic     the expected magic.
     * @param file      the file, for messages (with the key).
     * @param codec     the codec the descriptor records.
     * @param dtype     the dtype it records.
     * @param blockSize the store's block size.
     * @throws CorruptFileException naming the file and the field that disagrees, an unknown codec id included.
     * @throws FormatTooNewException when the file's major version is newer than this build's.
     */
    public static void checkHeader(final ByteBuffer header, final int magic, final String file, final Codec codec,
        final DType dtype, final int blockSize) {
        final ByteBuffer in = header.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (in.limit() < HEADER_LENGTH) {
            throw new CorruptFileException(file + " holds " + in.limit() + " bytes, shorter than its " + HEADER_LENGTH
                + "-byte header (truncated?)");
        }
        if (in.getInt(MAGIC_OFFSET) != magic) {
            throw new CorruptFileException(String.format("%s has magic 0x%08x, expected 0x%08x", file,
                in.getInt(MAGIC_OFFSET), magic));
        }
        final CRC32C crc = new CRC32C();
        crc.update(in.duplicate().position(0).limit(HEADER_CRC_OFFSET));
        if (in.getInt(HEADER_CRC_OFFSET) != (int) crc.getValue()) {
            throw new CorruptFileException(String.format("%s: its header fails its CRC32C (stored 0x%08x, computed "
                + "0x%08x)", file, in.getInt(HEADER_CRC_OFFSET), (int) crc.getValue()));
        }
        final int version = in.getInt(VERSION_OFFSET);
        if (SemanticVersion.major(version) != SemanticVersion.major(VERSION)) {
            throw new FormatTooNewException(file + " has format version " + SemanticVersion.toString(version)
                + ", this build reads " + SemanticVersion.toString(VERSION));
        }
        final int codecId = in.get(CODEC_OFFSET) & 0xFF;
        final Codec stored;
        try {
            stored = Codec.fromId(codecId);
        } catch (final IllegalArgumentException e) {
            throw new CorruptFileException(file + ": " + e.getMessage(), e);
        }
        final int dtypeId = in.get(DTYPE_OFFSET) & 0xFF;
        final int size = in.getInt(BLOCK_SIZE_OFFSET);
        if (stored != codec || dtypeId != dtype.id() || (in.get(ELEMENT_SIZE_OFFSET) & 0xFF) != dtype.byteWidth()
            || size != blockSize) {
            throw new CorruptFileException(file + ": its header says codec " + stored + ", dtype id " + dtypeId
                + ", element size " + (in.get(ELEMENT_SIZE_OFFSET) & 0xFF) + ", block size " + size
                + "; the store has " + codec + ", " + dtype + " (id " + dtype.id() + ", " + dtype.byteWidth()
                + " bytes), block size " + blockSize);
        }
    }
}
