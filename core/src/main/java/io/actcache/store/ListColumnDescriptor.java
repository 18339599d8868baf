package io.actcache.store;

/**
 * Layout of a LIST column: a ragged sequence of tensors of one dtype and differing shapes, kept as two files.
 * {@code columns/<id>.list} holds the items' bytes, each starting 8-byte aligned after a 64-byte header;
 * {@code columns/<id>.items} holds one fixed-size record per item after a 64-byte header. Both headers are
 * little-endian:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |          Magic 'ACLD' (.list) or 'ACLI' (.items)              |
 *  +---------------------------------------------------------------+
 *  |                 Format Version (SemanticVersion)              |
 *  +---------------+-----------------------------------------------+
 *  |  DType (u8)   |           Reserved (55 bytes, 0)             ...
 *  +---------------+-----------------------------------------------+
 *  |                  Header CRC32C of bytes 0..59                 |
 *  +---------------------------------------------------------------+
 * </pre>
 * Item record, 80 bytes, item {@code i} at {@code 64 + 80 i} of the {@code .items} file:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |             Data Offset (int64) in the .list file             |
 *  +---------------------------------------------------------------+
 *  |    Rank (int32)               |        Reserved (int32, 0)    |
 *  +---------------------------------------------------------------+
 *  |             Dims: 8 x int64, unused ones 0                   ...
 *  +---------------------------------------------------------------+
 * </pre>
 * The committed extent of both files comes from the column's descriptor (item count and data bytes), never
 * from the file sizes: bytes past it are an uncommitted append, cut on recovery.
 */
public final class ListColumnDescriptor {
    /** 'ACLD' little-endian: the data file. */
    public static final int DATA_MAGIC = 0x444C4341;
    /** 'ACLI' little-endian: the item table. */
    public static final int ITEMS_MAGIC = 0x494C4341;
    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
    /** Offset of the dtype id. */
    public static final int DTYPE_OFFSET = VERSION_OFFSET + Integer.BYTES;
    /** Offset of the header CRC. */
    public static final int HEADER_CRC_OFFSET = 60;
    /** Bytes before the first item (both files). */
    public static final int HEADER_LENGTH = HEADER_CRC_OFFSET + Integer.BYTES;

    /** Offset of an item's data offset within its record. */
    public static final int ITEM_DATA_OFFSET = 0;
    /** Offset of an item's rank. */
    public static final int ITEM_RANK_OFFSET = ITEM_DATA_OFFSET + Long.BYTES;
    /** Offset of an item's first dim. */
    public static final int ITEM_DIMS_OFFSET = ITEM_RANK_OFFSET + 2 * Integer.BYTES;
    /** Bytes per item record. */
    public static final int ITEM_RECORD_LENGTH = ITEM_DIMS_OFFSET + 8 * Long.BYTES;
    /** Items start at offsets that are multiples of this. */
    public static final int ITEM_ALIGNMENT = 8;

    private ListColumnDescriptor() {
    }

    /**
     * @param dataBytes committed data bytes.
     * @return offset in the .list file where the next item goes.
     */
    public static long nextItemOffset(final long dataBytes) {
        return HEADER_LENGTH + ((dataBytes + ITEM_ALIGNMENT - 1) & -ITEM_ALIGNMENT);
    }

    /**
     * @param index item index.
     * @return offset of its record in the .items file.
     */
    public static long itemRecordOffset(final long index) {
        return HEADER_LENGTH + index * ITEM_RECORD_LENGTH;
    }
}
