package io.actcache.tensor;

import io.actcache.CapacityExceededException;
import io.actcache.ShapeMismatchException;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A writable tensor a user builds or receives, backed by one little-endian {@link ByteBuffer} (direct by
 * default, so its bytes stay off the Java heap). At most {@value #MAX_BYTES} bytes: larger data belongs in a
 * store, appended in batches. One thread at a time.
 */
public final class Tensor {
    /** Largest byte size of a single in-memory tensor. */
    public static final int MAX_BYTES = Integer.MAX_VALUE - 8;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final DType dtype;
    private final Shape shape;
    private final ByteBuffer bytes;
    private final UnsafeBuffer buffer;
    private final TensorView view;

    private Tensor(final DType dtype, final Shape shape, final ByteBuffer bytes) {
        this.dtype = dtype;
        this.shape = shape;
        this.bytes = bytes.duplicate().clear().order(ORDER);
        this.buffer = new UnsafeBuffer(this.bytes);
        final MemoryChunk chunk = new MemoryChunk(this.bytes, 0);
        this.view = new TensorView(dtype, shape, new ChunkedMemory() {
            @Override
            public MemoryChunk chunkFor(final long position, final long requiredEnd) {
                return chunk;
            }

            @Override
            public String description() {
                return "tensor " + dtype + " " + shape;
            }
        }, 0);
    }

    /**
     * @param dtype element type.
     * @param shape shape.
     * @return a zeroed tensor in direct (off-heap) memory.
     */
    public static Tensor allocate(final DType dtype, final Shape shape) {
        return new Tensor(dtype, shape, ByteBuffer.allocateDirect(checkedSize(dtype, shape)));
    }

    /**
     * @param dtype element type.
     * @param shape shape.
     * @return a zeroed tensor on the Java heap (for small values).
     */
    public static Tensor allocateHeap(final DType dtype, final Shape shape) {
        return new Tensor(dtype, shape, ByteBuffer.allocate(checkedSize(dtype, shape)));
    }

    /**
     * Wraps existing little-endian bytes without copying.
     *
     * @param dtype element type.
     * @param shape shape.
     * @param bytes exactly the tensor's bytes between position and limit.
     * @return the tensor.
     * @throws ShapeMismatchException when the byte count does not match the shape.
     */
    public static Tensor wrap(final DType dtype, final Shape shape, final ByteBuffer bytes) {
        final int size = checkedSize(dtype, shape);
        if (bytes.remaining() != size) {
            throw new ShapeMismatchException(dtype + " " + shape + " needs " + size + " bytes, the buffer holds "
                + bytes.remaining());
        }
        return new Tensor(dtype, shape, bytes.slice());
    }

    /**
     * @param shape  shape.
     * @param values row-major values; exactly the shape's element count.
     * @return a direct F32 tensor holding a copy.
     */
    public static Tensor ofFloats(final Shape shape, final float... values) {
        final Tensor tensor = allocate(DType.F32, checkCount(shape, values.length));
        tensor.bytes.asFloatBuffer().put(values);
        return tensor;
    }

    /**
     * @param shape  shape.
     * @param values row-major values.
     * @return a direct I64 tensor holding a copy.
     */
    public static Tensor ofLongs(final Shape shape, final long... values) {
        final Tensor tensor = allocate(DType.I64, checkCount(shape, values.length));
        tensor.bytes.asLongBuffer().put(values);
        return tensor;
    }

    /**
     * @param shape  shape.
     * @param values row-major values.
     * @return a direct I32 tensor holding a copy.
     */
    public static Tensor ofInts(final Shape shape, final int... values) {
        final Tensor tensor = allocate(DType.I32, checkCount(shape, values.length));
        tensor.bytes.asIntBuffer().put(values);
        return tensor;
    }

    /** @return the element type. */
    public DType dtype() {
        return dtype;
    }

    /** @return the shape. */
    public Shape shape() {
        return shape;
    }

    /** @return bytes held. */
    public long byteSize() {
        return bytes.capacity();
    }

    /** @return a read-only view of this tensor's memory (shared, not copied). */
    public TensorView view() {
        return view.duplicate();
    }

    /** @return the bytes as a little-endian buffer sharing memory, position 0, limit at the end. */
    public ByteBuffer buffer() {
        return bytes.duplicate().clear().order(ORDER);
    }

    /**
     * @param index flat element index.
     * @param value F32 value.
     */
    public void setFloat(final long index, final float value) {
        buffer.putFloat(offset(index, DType.F32), value, ORDER);
    }

    /**
     * Stores a float into any floating-point tensor, rounding to nearest even for F16 and BF16.
     *
     * @param index flat element index.
     * @param value value.
     */
    public void setAsFloat(final long index, final float value) {
        switch (dtype) {
            case F32: buffer.putFloat(offset(index, null), value, ORDER); break;
            case F16: buffer.putShort(offset(index, null), HalfFloats.floatToF16(value), ORDER); break;
            case BF16: buffer.putShort(offset(index, null), HalfFloats.floatToBf16(value), ORDER); break;
            case F64: buffer.putDouble(offset(index, null), value, ORDER); break;
            default: throw new ShapeMismatchException("setAsFloat needs a floating-point tensor, this is " + dtype);
        }
    }

    /**
     * @param index flat element index.
     * @param value F64 value.
     */
    public void setDouble(final long index, final double value) {
        buffer.putDouble(offset(index, DType.F64), value, ORDER);
    }

    /**
     * @param index flat element index.
     * @param value I64 value.
     */
    public void setLong(final long index, final long value) {
        buffer.putLong(offset(index, DType.I64), value, ORDER);
    }

    /**
     * @param index flat element index.
     * @param value I32 value.
     */
    public void setInt(final long index, final int value) {
        buffer.putInt(offset(index, DType.I32), value, ORDER);
    }

    /**
     * @param index flat element index.
     * @param value 16-bit value: I16, or raw F16/BF16 bits.
     */
    public void setShort(final long index, final short value) {
        if (dtype.byteWidth() != 2) {
            throw new ShapeMismatchException("setShort needs a 2-byte dtype, this is " + dtype);
        }
        buffer.putShort(offset(index, null), value, ORDER);
    }

    /**
     * @param index flat element index.
     * @param value 8-bit value: I8, U8 or BOOL (0/1).
     */
    public void setByte(final long index, final byte value) {
        if (dtype.byteWidth() != 1) {
            throw new ShapeMismatchException("setByte needs a 1-byte dtype, this is " + dtype);
        }
        buffer.putByte(offset(index, null), value);
    }

    /** @return dtype and shape. */
    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shape + "]";
    }

    private int offset(final long index, final DType expected) {
        if (expected != null && dtype != expected) {
            throw new ShapeMismatchException("tensor holds " + dtype + ", not " + expected);
        }
        if (index < 0 || index >= shape.elementCount()) {
            throw new IndexOutOfBoundsException("element " + index + " out of [0, " + shape.elementCount()
                + ") of " + shape);
        }
        return (int) (index << dtype.shift());
    }

    private static int checkedSize(final DType dtype, final Shape shape) {
        final long size = shape.byteSize(dtype);
        if (size > MAX_BYTES) {
            throw new CapacityExceededException(dtype + " " + shape + " needs " + size
                + " bytes; an in-memory tensor holds at most " + MAX_BYTES + " (append larger data in batches)");
        }
        return (int) size;
    }

    private static Shape checkCount(final Shape shape, final int count) {
        if (shape.elementCount() != count) {
            throw new ShapeMismatchException("shape " + shape + " has " + shape.elementCount() + " elements, "
                + count + " values given");
        }
        return shape;
    }
}
