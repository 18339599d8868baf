package io.actcache.tensor;

import io.actcache.InvalidShapeException;
import io.actcache.ShapeMismatchException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * A read-only, dtype- and shape-tagged view of little-endian tensor bytes held off the Java heap: a column of
 * a store (memory-mapped, possibly spanning many mapped chunks) or a {@link Tensor}'s buffer.
 *
 * <p>Indexes are {@code long} element offsets in row-major (C) order. Element reads allocate nothing; bulk
 * copies move whole chunks at a time. {@link #rows(long, long)} slices along dim 0 without copying.
 *
 * <p>Design note: a view does not own its memory. It keeps a reference to the last chunk it used and checks
 * that the chunk is still live before each access, asking its {@link ChunkedMemory} for a fresh one after the
 * store's mapping cache evicted it. That is what lets a store bound its mappings while users hold any number
 * of views. A view is confined to one thread at a time, like the store it came from; use {@link #duplicate()}
 * to hand an independent view to another thread of a thread-safe memory.
 *
 * <p>Bounds and dtype checks are on unless the system property {@code actcache.disable.checks} is
 * {@code true} when this class loads.
 */
public final class TensorView {
    /** Whether element reads check bounds and dtype; read once from {@code actcache.disable.checks}. */
    public static final boolean SHOULD_CHECK = !Boolean.getBoolean("actcache.disable.checks");

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    /** Bytes of this view {@link #contentEquals} copies out at a time. */
    private static final int COMPARE_WINDOW_BYTES = 64 << 10;

    private final DType dtype;
    private final Shape shape;
    private final ChunkedMemory memory;
    private final long start;
    private final long end;
    private final long elementCount;
    private MemoryChunk current;

    /**
     * @param dtype  element type.
     * @param shape  shape; its byte size must fit in the memory from {@code start}.
     * @param memory the bytes.
     * @param start  byte offset of element 0 in {@code memory}; a multiple of the dtype width.
     */
    public TensorView(final DType dtype, final Shape shape, final ChunkedMemory memory, final long start) {
        this.dtype = dtype;
        this.shape = shape;
        this.memory = memory;
        this.start = start;
        this.end = start + shape.byteSize(dtype);
        this.elementCount = shape.elementCount();
    }

    /** @return the element type. */
    public DType dtype() {
        return dtype;
    }

    /** @return the shape. */
    public Shape shape() {
        return shape;
    }

    /** @return number of elements. */
    public long elementCount() {
        return elementCount;
    }

    /** @return number of bytes. */
    public long byteSize() {
        return end - start;
    }

    /** @return where the bytes live, for messages. */
    public String description() {
        return memory.description();
    }

    /** @return a view of the same bytes with its own chunk cursor. */
    public TensorView duplicate() {
        return new TensorView(dtype, shape, memory, start);
    }

    /**
     * @param from first row (dim 0 index), inclusive.
     * @param to   last row, exclusive.
     * @return a view of rows {@code [from, to)}, sharing memory.
     * @throws IndexOutOfBoundsException naming the range and the row count.
     */
    public TensorView rows(final long from, final long to) {
        if (shape.rank() == 0) {
            throw new InvalidShapeException("rows(" + from + ", " + to + ") of a scalar " + description());
        }
        if (from < 0 || to < from || to > shape.dim(0)) {
            throw new IndexOutOfBoundsException(
                "rows [" + from + ", " + to + ") out of [0, " + shape.dim(0) + ") in " + description());
        }
        final long rowBytes = shape.rowElements() << dtype.shift();
        return new TensorView(dtype, shape.withDim0(to - from), memory, start + from * rowBytes);
    }

    /**
     * @param row a dim 0 index.
     * @return the row as a view of rank one less, sharing memory.
     */
    public TensorView row(final long row) {
        final TensorView rows = rows(row, row + 1);
        return new TensorView(dtype, shape.trailing(), memory, rows.start);
    }

    /**
     * @param index flat element index.
     * @return the F32 element.
     */
    public float getFloat(final long index) {
        final long position = position(index, DType.F32);
        return chunk(position, 4).buffer().getFloat((int) (position - current.start()), ORDER);
    }

    /**
     * @param index flat element index.
     * @return the F64 element.
     */
    public double getDouble(final long index) {
        final long position = position(index, DType.F64);
        return chunk(position, 8).buffer().getDouble((int) (position - current.start()), ORDER);
    }

    /**
     * @param index flat element index.
     * @return the I64 element.
     */
    public long getLong(final long index) {
        final long position = position(index, DType.I64);
        return chunk(position, 8).buffer().getLong((int) (position - current.start()), ORDER);
    }

    /**
     * @param index flat element index.
     * @return the I32 element.
     */
    public int getInt(final long index) {
        final long position = position(index, DType.I32);
        return chunk(position, 4).buffer().getInt((int) (position - current.start()), ORDER);
    }

    /**
     * @param index flat element index.
     * @return the 16-bit element (I16, or the raw bits of F16/BF16).
     */
    public short getShort(final long index) {
        final long position = position(index, null);
        if (SHOULD_CHECK && dtype.byteWidth() != 2) {
            throw dtypeMismatch("getShort", "a 2-byte dtype");
        }
        return chunk(position, 2).buffer().getShort((int) (position - current.start()), ORDER);
    }

    /**
     * @param index flat element index.
     * @return the 8-bit element (I8, U8 as a signed byte, BOOL as 0/1).
     */
    public byte getByte(final long index) {
        final long position = position(index, null);
        if (SHOULD_CHECK && dtype.byteWidth() != 1) {
            throw dtypeMismatch("getByte", "a 1-byte dtype");
        }
        return chunk(position, 1).buffer().getByte((int) (position - current.start()));
    }

    /**
     * Reads any numeric element converted to float: F16 and BF16 exactly, wider types rounded.
     *
     * @param index flat element index.
     * @return the element as a float.
     */
    public float getAsFloat(final long index) {
        final long position = position(index, null);
        final int offset = (int) (position - chunk(position, dtype.byteWidth()).start());
        final org.agrona.concurrent.UnsafeBuffer buffer = current.buffer();
        switch (dtype) {
            case F32: return buffer.getFloat(offset, ORDER);
            case F16: return HalfFloats.f16ToFloat(buffer.getShort(offset, ORDER));
            case BF16: return HalfFloats.bf16ToFloat(buffer.getShort(offset, ORDER));
            case F64: return (float) buffer.getDouble(offset, ORDER);
            case I64: return buffer.getLong(offset, ORDER);
            case I32: return buffer.getInt(offset, ORDER);
            case I16: return buffer.getShort(offset, ORDER);
            case I8: return buffer.getByte(offset);
            case U8:
            case BOOL: return buffer.getByte(offset) & 0xFF;
            default: throw new IllegalStateException("unhandled dtype " + dtype);
        }
    }

    /**
     * Reads any element converted to double (exact for every dtype except I64 beyond 2^53).
     *
     * @param index flat element index.
     * @return the element as a double.
     */
    public double getAsDouble(final long index) {
        if (dtype == DType.F64) {
            return getDouble(index);
        }
        if (dtype == DType.I64) {
            return getLong(index);
        }
        return getAsFloat(index);
    }

    /**
     * Copies elements out as floats, converting from any dtype (F16 and BF16 exactly).
     *
     * @param fromElement first flat element.
     * @param dst         destination array.
     * @param dstOffset   first index written in {@code dst}.
     * @param count       elements to copy.
     */
    public void copyTo(final long fromElement, final float[] dst, final int dstOffset, final int count) {
        checkRange(fromElement, count);
        if (dstOffset < 0 || dstOffset + count > dst.length) {
            throw new IndexOutOfBoundsException(
                "destination range [" + dstOffset + ", " + (dstOffset + count) + ") out of float[" + dst.length + "]");
        }
        if (dtype != DType.F32) {
            for (int i = 0; i < count; i++) {
                dst[dstOffset + i] = getAsFloat(fromElement + i);
            }
            return;
        }
        long position = start + (fromElement << 2);
        int written = 0;
        while (written < count) {
            final MemoryChunk chunk = chunk(position, 4);
            final int index = (int) (position - chunk.start());
            final int n = (int) Math.min(count - written, (chunk.end() - position) >> 2);
            chunk.slice(index, n << 2).asFloatBuffer().get(dst, dstOffset + written, n);
            written += n;
            position += (long) n << 2;
        }
    }

    /**
     * @return every element as a float (F16/BF16 converted exactly).
     * @throws io.actcache.CapacityExceededException when the view has more than 2^31 - 9 elements.
     */
    public float[] toFloatArray() {
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new io.actcache.CapacityExceededException(
                "view " + shape + " of " + description() + " has " + elementCount + " elements, too many for a float[]");
        }
        final float[] values = new float[(int) elementCount];
        copyTo(0, values, 0, values.length);
        return values;
    }

    /**
     * Copies raw little-endian bytes into {@code dst} from its position, advancing it. A copy that fails part way
     * (a {@link io.actcache.CorruptFileException} from a compressed column's block) leaves {@code dst}'s position
     * and the bytes from it on unspecified.
     *
     * @param fromByte first byte of this view.
     * @param dst      writable destination with at least the bytes to copy remaining.
     * @param length   bytes to copy.
     * @throws ReadOnlyBufferException when {@code dst} is read-only.
     */
    public void copyBytesTo(final long fromByte, final ByteBuffer dst, final long length) {
        if (fromByte < 0 || length < 0 || fromByte + length > byteSize()) {
            throw new IndexOutOfBoundsException(
                "bytes [" + fromByte + ", " + (fromByte + length) + ") out of [0, " + byteSize() + ") in " + description());
        }
        if (dst.remaining() < length) {
            throw new IndexOutOfBoundsException("destination has " + dst.remaining() + " bytes left, needs " + length);
        }
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        long position = start + fromByte;
        final long stop = position + length;
        while (position < stop) {
            final int direct = memory.copyDirect(position, stop, dst);
            if (direct > 0) {
                position += direct;
                continue;
            }
            final MemoryChunk chunk = chunk(position, 1);
            final int n = (int) Math.min(stop - position, chunk.end() - position);
            dst.put(chunk.slice((int) (position - chunk.start()), n));
            position += n;
        }
    }

    /**
     * Copies all bytes into {@code dst} from its position, advancing it.
     *
     * @param dst destination with at least {@link #byteSize()} bytes remaining.
     */
    public void copyTo(final ByteBuffer dst) {
        copyBytesTo(0, dst, byteSize());
    }

    /**
     * Copies all elements into a writable tensor of the same dtype, starting at one of its elements.
     *
     * @param dst              destination.
     * @param dstElementOffset first destination element.
     */
    public void copyTo(final Tensor dst, final long dstElementOffset) {
        if (dst.dtype() != dtype) {
            throw new ShapeMismatchException(
                "copy of " + dtype + " " + shape + " into a " + dst.dtype() + " " + dst.shape() + " tensor");
        }
        if (dstElementOffset < 0 || dstElementOffset + elementCount > dst.shape().elementCount()) {
            throw new IndexOutOfBoundsException("copy of " + elementCount + " elements at " + dstElementOffset
                + " into a tensor of " + dst.shape().elementCount() + " elements");
        }
        final ByteBuffer target = dst.buffer();
        target.position((int) (dstElementOffset << dtype.shift()));
        copyTo(target);
    }

    /**
     * Writes all bytes to a file at {@code position} with positional channel writes (no mapping), so a full
     * disk surfaces as an {@link IOException} rather than a SIGBUS.
     *
     * @param channel  destination file.
     * @param position file offset of the first byte.
     * @return bytes written.
     * @throws IOException when the write fails.
     */
    public long writeTo(final FileChannel channel, final long position) throws IOException {
        long source = start;
        long target = position;
        while (source < end) {
            final MemoryChunk chunk = chunk(source, 1);
            final int n = (int) Math.min(end - source, chunk.end() - source);
            final ByteBuffer slice = chunk.slice((int) (source - chunk.start()), n);
            while (slice.hasRemaining()) {
                target += channel.write(slice, target);
            }
            source += n;
        }
        return end - start;
    }

    /**
     * Hands the bytes {@code [fromByte, fromByte + length)} to {@code visitor} as a sequence of little-endian
     * buffers that share the view's memory (one per chunk touched), without copying. A buffer is valid only
     * during its call.
     *
     * @param fromByte first byte of this view.
     * @param length   bytes to visit.
     * @param visitor  receives each piece in order.
     */
    public void visitBytes(final long fromByte, final long length, final java.util.function.Consumer<ByteBuffer> visitor) {
        if (fromByte < 0 || length < 0 || fromByte + length > byteSize()) {
            throw new IndexOutOfBoundsException(
                "bytes [" + fromByte + ", " + (fromByte + length) + ") out of [0, " + byteSize() + ") in " + description());
        }
        long position = start + fromByte;
        final long stop = position + length;
        while (position < stop) {
            final MemoryChunk chunk = chunk(position, 1);
            final int n = (int) Math.min(stop - position, chunk.end() - position);
            visitor.accept(chunk.slice((int) (position - chunk.start()), n));
            position += n;
        }
    }

    /** @return the CRC32C of all bytes, computed chunk by chunk without copying to the heap. */
    public long crc32c() {
        final CRC32C crc = new CRC32C();
        long position = start;
        while (position < end) {
            final MemoryChunk chunk = chunk(position, 1);
            final int n = (int) Math.min(end - position, chunk.end() - position);
            crc.update(chunk.slice((int) (position - chunk.start()), n));
            position += n;
        }
        return crc.getValue();
    }

    /**
     * @param other another view.
     * @return true when dtype, shape and every byte are equal.
     */
    public boolean contentEquals(final TensorView other) {
        if (dtype != other.dtype || !shape.equals(other.shape)) {
            return false;
        }
        // This view's bytes are copied out a window at a time before the other's chunk is fetched: fetching it can
        // evict and unmap this view's chunk (both may share one bounded mapping cache or block pool), and comparing
        // against an unmapped chunk would crash the JVM.
        final long total = byteSize();
        final ByteBuffer mine = ByteBuffer.allocate((int) Math.min(COMPARE_WINDOW_BYTES, total));
        for (long offset = 0; offset < total; ) {
            final int n = (int) Math.min(mine.capacity(), total - offset);
            mine.clear().limit(n);
            for (long position = start + offset; mine.hasRemaining(); ) {
                final MemoryChunk chunk = chunk(position, 1);
                final int piece = (int) Math.min(mine.remaining(), chunk.end() - position);
                mine.put(chunk.slice((int) (position - chunk.start()), piece));
                position += piece;
            }
            mine.flip();
            long otherPosition = other.start + offset;
            while (mine.hasRemaining()) {
                final MemoryChunk theirs = other.chunk(otherPosition, 1);
                final int piece = (int) Math.min(mine.remaining(), theirs.end() - otherPosition);
                final int at = mine.position();
                if (!mine.slice(at, piece).equals(theirs.slice((int) (otherPosition - theirs.start()), piece))) {
                    return false;
                }
                mine.position(at + piece);
                otherPosition += piece;
            }
            offset += n;
        }
        return true;
    }

    /** @return dtype, shape and where the bytes live. */
    @Override
    public String toString() {
        return "TensorView[" + dtype + " " + shape + " in " + description() + "]";
    }

    private long position(final long index, final DType expected) {
        if (SHOULD_CHECK) {
            if (expected != null && dtype != expected) {
                throw dtypeMismatch("a typed read of " + expected, expected.toString());
            }
            if (index < 0 || index >= elementCount) {
                throw new IndexOutOfBoundsException(
                    "element " + index + " out of [0, " + elementCount + ") of " + shape + " in " + description());
            }
        }
        return start + (index << dtype.shift());
    }

    private void checkRange(final long fromElement, final long count) {
        if (fromElement < 0 || count < 0 || fromElement + count > elementCount) {
            throw new IndexOutOfBoundsException("elements [" + fromElement + ", " + (fromElement + count)
                + ") out of [0, " + elementCount + ") of " + shape + " in " + description());
        }
    }

    private MemoryChunk chunk(final long position, final int width) {
        MemoryChunk chunk = current;
        if (chunk == null || !chunk.isLive() || position < chunk.start() || position + width > chunk.end()) {
            chunk = memory.chunkFor(position, end);
            current = chunk;
        }
        return chunk;
    }

    private ShapeMismatchException dtypeMismatch(final String operation, final String expected) {
        return new ShapeMismatchException(
            operation + " needs " + expected + " but " + description() + " holds " + dtype + " " + shape);
    }
}
