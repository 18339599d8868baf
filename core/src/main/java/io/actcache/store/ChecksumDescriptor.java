package io.actcache.store;

/**
 * Layout of a column's checksum file {@code columns/<id>.crc}: the CRC32C of every complete fixed-size block
 * of the column's data, appended as blocks complete. The CRC of the last, partial block is not here: it
 * travels in the column's descriptor (journal record, manifest), so nothing is ever rewritten in place.
 * Little-endian.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                       Magic 'ACCK'                            |
 *  +---------------------------------------------------------------+
 *  |                 Format Version (SemanticVersion)              |
 *  +---------------+-----------------------------------------------+
 *  | Algorithm (u8)|              Reserved (3 bytes, 0)            |
 *  +---------------+-----------------------------------------------+
 *  |                      Block Size (int32)                       |
 *  +---------------------------------------------------------------+
 *  |                      Reserved (44 bytes, 0)                  ...
 *  +---------------------------------------------------------------+
 *  |                  Header CRC32C of bytes 0..59                 |
 *  +---------------------------------------------------------------+
 *  |          Block CRC32C (int32), one per complete block        ...
 *  +---------------------------------------------------------------+
 * </pre>
 * Block {@code i} covers data bytes {@code [i * blockSize, (i + 1) * blockSize)}, counted from the start of
 * the column's data (after the NPY or LIST header). Algorithm 1 is CRC32C; others are refused by name.
 */
public final class ChecksumDescriptor {
    /** 'ACCK' little-endian. */
    public static final int MAGIC = 0x4B434341;
    /** Algorithm id of CRC32C. */
    public static final int ALGORITHM_CRC32C = 1;
    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    /** Offset of the algorithm id. */
    public static final int ALGORITHM_OFFSET = VERSION_OFFSET + Integer.BYTES;
    /** Offset of the block size. */
    public static final int BLOCK_SIZE_OFFSET = ALGORITHM_OFFSET + Integer.BYTES;
    /** Offset of the header CRC. */
    public static final int HEADER_CRC_OFFSET = 60;
    /** Bytes before the first block CRC. */
    public static final int HEADER_LENGTH = HEADER_CRC_OFFSET + Integer.BYTES;

    private ChecksumDescriptor() {
    }

    /**
     * @param block a block index.
     * @return offset of its CRC in the file.
     */
    public static long entryOffset(final long block) {
        return HEADER_LENGTH + block * Integer.BYTES;
    }
}
