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
 *  |                     Reserved (4 bytes, 0)                     |
 *  +---------------------------------------------------------------+
 *  |                Dims: Rank x int64, dim 0 first               ...
 *  +---------------------------------------------------------------+
 * </pre>
 * The committed byte length is derived from the dims and dtype.
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
    /** Offset of the reserved word. */
    public static final int RESERVED_OFFSET = RANK_OFFSET + 1;
    /** Offset of the first dim. */
    public static final int DIMS_OFFSET = RESERVED_OFFSET + Integer.BYTES;

    private final long columnId;
    private final ColumnKind kind;
    private final DType dtype;
    private final Codec codec;
    private final Shape shape;

    /**
     * @param columnId id of the column file, never reused.
     * @param kind     column kind.
     * @param dtype    element type.
     * @param codec    byte layout.
     * @param shape    committed shape.
     */
    public ColumnDescriptor(final long columnId, final ColumnKind kind, final DType dtype, final Codec codec,
        final Shape shape) {
        this.columnId = columnId;
        this.kind = kind;
        this.dtype = dtype;
        this.codec = codec;
        this.shape = shape;
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

    /** @return committed tensor bytes. */
    public long byteSize() {
        return shape.byteSize(dtype);
    }

    /**
     * @param newShape the shape after a change.
     * @return a descriptor of the same column with that shape.
     */
    public ColumnDescriptor withShape(final Shape newShape) {
        return new ColumnDescriptor(columnId, kind, dtype, codec, newShape);
    }

    /** @return bytes of the binary form. */
    public int encodedLength() {
        return DIMS_OFFSET + shape.rank() * Long.BYTES;
    }

    /**
     * Writes the binary form at the buffer's position, advancing it.
     *
     * @param out a little-endian buffer with {@link #encodedLength()} bytes remaining.
     */
    public void encode(final ByteBuffer out) {
        out.order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(columnId).put((byte) kind.id()).put((byte) dtype.id()).put((byte) codec.id())
            .put((byte) shape.rank()).putInt(0);
        for (int i = 0; i < shape.rank(); i++) {
            out.putLong(shape.dim(i));
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
        in.getInt();
        if (rank < 0 || rank > Shape.MAX_RANK) {
            throw new IllegalArgumentException("rank " + rank + " out of [0, " + Shape.MAX_RANK + "]");
        }
        final long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = in.getLong();
        }
        return new ColumnDescriptor(columnId, kind, dtype, codec, Shape.of(dims));
    }

    @Override
    public boolean equals(final Object other) {
        if (!(other instanceof ColumnDescriptor)) {
            return false;
        }
        final ColumnDescriptor that = (ColumnDescriptor) other;
        return columnId == that.columnId && kind == that.kind && dtype == that.dtype && codec == that.codec
            && shape.equals(that.shape);
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
