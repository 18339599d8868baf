package io.actcache.store;

import io.actcache.codec.Codec;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the store knows of one key's column: its id (which names its file), kind, dtype, committed shape and
 * codec. Immutable; every commit that changes a column records a new descriptor.
 *
 * <p>Binary form, little-endian, used in journal records and index values:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      Column Id (int64)                        |
 *  |                                                               |
 *  +---------------+---------------+---------------+---------------+
 *  |  Kind (u8)    |  DType (u8)   |  Codec (u8)   |  Rank (u8)    |
 *  +---------------+---------------+---------------+---------------+
 *  |        Tail CRC32C: of the data's last partial checksum block   |
 *  +---------------------------------------------------------------+
 *  |                  Data Bytes (int64): committed               |
 *  |                  tensor bytes in the column file              |
 *  +---------------------------------------------------------------+
 *  |                Dims: Rank x int64, dim 0 first               ...
 *  +---------------------------------------------------------------+
 *  |     Block Entries (int64): block-compressed codecs only       |
 *  +---------------------------------------------------------------+
 *  |   Compressed File Bytes (int64): block-compressed codecs only |
 *  +---------------------------------------------------------------+
 * </pre>
 * For a block-compressed codec ({@link Codec#isBlockCompressed()}) the data bytes are the raw bytes, the tail CRC
 * is the CRC32C of the last committed block index entry, and two fields follow the dims: the committed entries of
 * the block index and the committed length of the compressed data file.
 * For a DENSE column the dims are the tensor's shape and the data bytes equal its byte size. For a LIST
 * column the shape is {@code [itemCount]} and the data bytes cover every item, each starting 8-byte aligned.
 */
public final class ColumnDescriptor {
    /** Offset of the column id. */
    public static final int COLUMN_ID_OFFSET = 0;
    /** Offset of the kind id. */
    public static final int KIND_OFFSET = COLUMN_ID_OFFSET + Long.BYTES;
    /** Offset of the dtype id. */
    public static final int DTYPE_OFFSET = KIND_OFFSET + 1;
    /** Offset of the codec id. */
    public static final int CODEC_OFFSET = DTYPE_OFFSET + 1;
    /** Offset of the rank. */
    public static final int RANK_OFFSET = CODEC_OFFSET + 1;
    /** Offset of the CRC32C of the last partial checksum block (0 when the data ends on a block boundary). */
    public static final int TAIL_CRC_OFFSET = RANK_OFFSET + 1;
    /** Offset of the committed data byte count. */
    public static final int DATA_BYTES_OFFSET = TAIL_CRC_OFFSET + Integer.BYTES;
    /** Offset of the first dim. */
    public static final int DIMS_OFFSET = DATA_BYTES_OFFSET + Long.BYTES;

    private final long columnId;
    private final ColumnKind kind;
    private final DType dtype;
    private final Codec codec;
    private final Shape shape;
    private final long dataBytes;
    private final int tailCrc;
    private final long blockEntries;
    private final long fileBytes;

    /**
     * @param columnId  id of the column file, never reused.
     * @param kind      column kind.
     * @param dtype     element type.
     * @param codec     byte layout.
     * @param shape     committed shape ({@code [itemCount]} for a LIST).
     * @param dataBytes committed data bytes.
     * @param tailCrc   CRC32C of the data's last partial checksum block, 0 when none.
     */
    public ColumnDescriptor(final long columnId, final ColumnKind kind, final DType dtype, final Codec codec,
        final Shape shape, final long dataBytes, final int tailCrc) {
        this(columnId, kind, dtype, codec, shape, dataBytes, tailCrc, 0, 0);
    }

    /**
     * @param columnId     id of the column file, never reused.
     * @param kind         column kind.
     * @param dtype        element type.
     * @param codec        byte layout.
     * @param shape        committed shape ({@code [itemCount]} for a LIST).
     * @param dataBytes    committed data bytes (raw bytes for a block-compressed codec).
     * @param tailCrc      CRC32C of the last partial checksum block, or of the last block index entry.
     * @param blockEntries committed block index entries (0 for RAW).
     * @param fileBytes    committed bytes of the compressed data file (0 for RAW).
     */
    public ColumnDescriptor(final long columnId, final ColumnKind kind, final DType dtype, final Codec codec,
        final Shape shape, final long dataBytes, final int tailCrc, final long blockEntries, final long fileBytes) {
        this.columnId = columnId;
        this.kind = kind;
        this.dtype = dtype;
        this.codec = codec;
        this.shape = shape;
        this.dataBytes = dataBytes;
        this.tailCrc = tailCrc;
        this.blockEntries = blockEntries;
        this.fileBytes = fileBytes;
        if (codec.isBlockCompressed() && kind != ColumnKind.DENSE) {
            throw new IllegalArgumentException("codec " + codec + " applies to DENSE columns only, not " + kind);
        }
        if (blockEntries < 0 || fileBytes < 0 || !codec.isBlockCompressed() && (blockEntries != 0 || fileBytes != 0)) {
            throw new IllegalArgumentException("codec " + codec + " with " + blockEntries + " block entries and "
                + fileBytes + " compressed bytes");
        }
        if (kind == ColumnKind.DENSE && dataBytes != shape.byteSize(dtype)) {
            throw new IllegalArgumentException("DENSE " + dtype + " " + shape + " needs " + shape.byteSize(dtype)
                + " data bytes, descriptor says " + dataBytes);
        }
        if (kind == ColumnKind.LIST && shape.rank() != 1) {
            throw new IllegalArgumentException("a LIST column's shape is [itemCount], not " + shape);
        }
    }

    /**
     * @param columnId id of the column file.
     * @param dtype    element type.
     * @param shape    the tensor's shape.
     * @param tailCrc  CRC32C of the last partial checksum block.
     * @return a RAW DENSE descriptor.
     */
    public static ColumnDescriptor dense(final long columnId, final DType dtype, final Shape shape, final int tailCrc) {
        return new ColumnDescriptor(columnId, ColumnKind.DENSE, dtype, Codec.RAW, shape, shape.byteSize(dtype),
            tailCrc);
    }

    /** @return the column id; its file is {@code columns/<id>.npy}. */
    public long columnId() {
        return columnId;
    }

    /** @return the column kind. */
    public ColumnKind kind() {
        return kind;
    }

    /** @return the element type. */
    public DType dtype() {
        return dtype;
    }

    /** @return the codec. */
    public Codec codec() {
        return codec;
    }

    /** @return the committed shape. */
    public Shape shape() {
        return shape;
    }

    /** @return committed data bytes in the column file (for a LIST, with alignment padding). */
    public long byteSize() {
        return dataBytes;
    }

    /** @return CRC32C of the data's last partial checksum block; 0 when the data ends on a block boundary. */
    public int tailCrc() {
        return tailCrc;
    }

    /** @return committed block index entries of a block-compressed column; 0 for RAW. */
    public long blockEntries() {
        return blockEntries;
    }

    /** @return committed bytes of a block-compressed column's data file; 0 for RAW. */
    public long fileBytes() {
        return fileBytes;
    }

    /**
     * @return bytes the column's data takes in its file: the data bytes for RAW; for a block-compressed codec the
     *     compressed blocks (rewrites of a partial last block that later appends superseded included, until a
     *     {@code compact} with a codec rewrites the column).
     */
    public long storedBytes() {
        return codec.isBlockCompressed() ? fileBytes - io.actcache.codec.BlockFileDescriptor.HEADER_LENGTH : dataBytes;
    }

    /**
     * @param newShape     the shape after an append to a block-compressed column.
     * @param newEntries   its block index entries after it.
     * @param newFileBytes its data file bytes after it.
     * @param lastEntryCrc the CRC32C of its last entry.
     * @return a descriptor of the same column.
     */
    public ColumnDescriptor grownBlocks(final Shape newShape, final long newEntries, final long newFileBytes,
        final int lastEntryCrc) {
        return new ColumnDescriptor(columnId, kind, dtype, codec, newShape, newShape.byteSize(dtype), lastEntryCrc,
            newEntries, newFileBytes);
    }

    /**
     * @param newShape     the shape after a change.
     * @param newDataBytes the data bytes after it.
     * @param newTailCrc   the CRC32C of the new last partial block.
     * @return a descriptor of the same column.
     */
    public ColumnDescriptor grown(final Shape newShape, final long newDataBytes, final int newTailCrc) {
        return new ColumnDescriptor(columnId, kind, dtype, codec, newShape, newDataBytes, newTailCrc, blockEntries,
            fileBytes);
    }

    /** @return bytes of the binary form. */
    public int encodedLength() {
        return DIMS_OFFSET + shape.rank() * Long.BYTES + (codec.isBlockCompressed() ? 2 * Long.BYTES : 0);
    }

    /**
     * Writes the binary form at the buffer's position, advancing it.
     *
     * @param out a little-endian buffer with {@link #encodedLength()} bytes remaining.
     */
    public void encode(final ByteBuffer out) {
        out.order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(columnId).put((byte) kind.id()).put((byte) dtype.id()).put((byte) codec.id())
            .put((byte) shape.rank()).putInt(tailCrc).putLong(dataBytes);
        for (int i = 0; i < shape.rank(); i++) {
            out.putLong(shape.dim(i));
        }
        if (codec.isBlockCompressed()) {
            out.putLong(blockEntries).putLong(fileBytes);
        }
    }

    /**
     * Reads a binary form at the buffer's position, advancing it.
     *
     * @param in a little-endian buffer.
     * @return the descriptor.
     * @throws IllegalArgumentException when an id or dim is invalid (callers wrap it with the file name).
     */
    public static ColumnDescriptor decode(final ByteBuffer in) {
        in.order(ByteOrder.LITTLE_ENDIAN);
        final long columnId = in.getLong();
        final ColumnKind kind = ColumnKind.fromId(in.get());
        final DType dtype = DType.fromId(in.get());
        final Codec codec = Codec.fromId(in.get());
        final int rank = in.get();
        final int tailCrc = in.getInt();
        final long dataBytes = in.getLong();
        if (rank < 0 || rank > Shape.MAX_RANK) {
            throw new IllegalArgumentException("rank " + rank + " out of [0, " + Shape.MAX_RANK + "]");
        }
        final long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = in.getLong();
        }
        final long blockEntries = codec.isBlockCompressed() ? in.getLong() : 0;
        final long fileBytes = codec.isBlockCompressed() ? in.getLong() : 0;
        return new ColumnDescriptor(columnId, kind, dtype, codec, Shape.of(dims), dataBytes, tailCrc, blockEntries,
            fileBytes);
    }

    @Override
    public boolean equals(final Object other) {
        if (!(other instanceof ColumnDescriptor)) {
            return false;
        }
        final ColumnDescriptor that = (ColumnDescriptor) other;
        return columnId == that.columnId && kind == that.kind && dtype == that.dtype && codec == that.codec
            && shape.equals(that.shape) && dataBytes == that.dataBytes && tailCrc == that.tailCrc
            && blockEntries == that.blockEntries && fileBytes == that.fileBytes;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(columnId) * 31 + shape.hashCode();
    }

    @Override
    public String toString() {
        return "column " + columnId + " " + kind + " " + dtype + " " + shape + " " + codec;
    }
}
