package io.actcache.tensor;

import io.actcache.CapacityExceededException;
import io.actcache.InvalidShapeException;
import io.actcache.ShapeMismatchException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {
    private static final Shape SHAPE = Shape.of(3, 4);

    @Test
    void shouldStoreAndReadBackEveryDType() {
        for (final DType dtype : DType.values()) {
            for (final Tensor tensor : List.of(Tensor.allocate(dtype, SHAPE), Tensor.allocateHeap(dtype, SHAPE))) {
                assertEquals(dtype, tensor.dtype());
                assertEquals(SHAPE, tensor.shape());
                assertEquals(12L * dtype.byteWidth(), tensor.byteSize());
                fill(tensor);
                final TensorView view = tensor.view();
                assertEquals(dtype, view.dtype());
                assertEquals(SHAPE, view.shape());
                for (int i = 0; i < 12; i++) {
                    assertEquals(expected(dtype, i), view.getAsDouble(i), dtype + " element " + i);
                }
            }
        }
    }

    @Test
    void shouldReadTypedElementsWithTheMatchingGetters() {
        final Tensor f32 = Tensor.ofFloats(Shape.of(2), 1.5f, -2.25f);
        assertEquals(-2.25f, f32.view().getFloat(1));
        final Tensor f64 = Tensor.allocate(DType.F64, Shape.of(1));
        f64.setDouble(0, Math.PI);
        assertEquals(Math.PI, f64.view().getDouble(0));
        final Tensor i64 = Tensor.ofLongs(Shape.of(2), Long.MIN_VALUE, Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, i64.view().getLong(1));
        assertEquals((double) Long.MIN_VALUE, i64.view().getAsDouble(0));
        final Tensor i32 = Tensor.ofInts(Shape.of(2), -7, Integer.MAX_VALUE);
        assertEquals(-7, i32.view().getInt(0));
        final Tensor i16 = Tensor.allocate(DType.I16, Shape.of(1));
        i16.setShort(0, (short) -300);
        assertEquals((short) -300, i16.view().getShort(0));
        assertEquals(-300f, i16.view().getAsFloat(0));
        final Tensor u8 = Tensor.allocate(DType.U8, Shape.of(1));
        u8.setByte(0, (byte) 200);
        assertEquals((byte) 200, u8.view().getByte(0));
        assertEquals(200f, u8.view().getAsFloat(0), "U8 reads unsigned");
        final Tensor i8 = Tensor.allocate(DType.I8, Shape.of(1));
        i8.setByte(0, (byte) -100);
        assertEquals(-100f, i8.view().getAsFloat(0), "I8 reads signed");
    }

    @Test
    void shouldRoundFloatsIntoHalfPrecisionTensors() {
        final Tensor f16 = Tensor.allocate(DType.F16, Shape.of(3));
        f16.setAsFloat(0, 1.0f + 0x1p-11f);
        f16.setAsFloat(1, 1e6f);
        f16.setAsFloat(2, -0.5f);
        assertEquals((short) 0x3C00, f16.view().getShort(0), "ties to even");
        assertEquals(Float.POSITIVE_INFINITY, f16.view().getAsFloat(1));
        assertEquals(-0.5f, f16.view().getAsFloat(2));
        final Tensor bf16 = Tensor.allocate(DType.BF16, Shape.of(2));
        bf16.setAsFloat(0, 1.00390625f);
        bf16.setAsFloat(1, 3.0f);
        assertEquals((short) 0x3F80, bf16.view().getShort(0));
        assertEquals(3.0f, bf16.view().getAsFloat(1));
        final Tensor f64 = Tensor.allocate(DType.F64, Shape.of(1));
        f64.setAsFloat(0, 0.1f);
        assertEquals(0.1f, f64.view().getDouble(0));
        final ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
            () -> Tensor.allocate(DType.I32, Shape.of(1)).setAsFloat(0, 1f));
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void shouldRejectSettersOfTheWrongDTypeNamingIt() {
        final Tensor i64 = Tensor.allocate(DType.I64, Shape.of(2));
        final ShapeMismatchException f = assertThrows(ShapeMismatchException.class, () -> i64.setFloat(0, 1f));
        assertTrue(f.getMessage().contains("I64") && f.getMessage().contains("F32"), f.getMessage());
        assertThrows(ShapeMismatchException.class, () -> i64.setInt(0, 1));
        assertThrows(ShapeMismatchException.class, () -> i64.setDouble(0, 1));
        assertThrows(ShapeMismatchException.class, () -> i64.setShort(0, (short) 1));
        assertThrows(ShapeMismatchException.class, () -> i64.setByte(0, (byte) 1));
        assertThrows(ShapeMismatchException.class, () -> Tensor.allocate(DType.F32, Shape.of(1)).setLong(0, 1));
    }

    @Test
    void shouldRejectOutOfRangeIndexesNamingTheShape() {
        final Tensor tensor = Tensor.allocate(DType.F32, SHAPE);
        final IndexOutOfBoundsException e =
            assertThrows(IndexOutOfBoundsException.class, () -> tensor.setFloat(12, 1f));
        assertTrue(e.getMessage().contains("12") && e.getMessage().contains("[3, 4]"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> tensor.setFloat(-1, 1f));
        assertThrows(IndexOutOfBoundsException.class, () -> tensor.setAsFloat(Long.MAX_VALUE, 1f));
    }

    @Test
    void shouldRejectValueCountsThatDoNotMatchTheShape() {
        final ShapeMismatchException e =
            assertThrows(ShapeMismatchException.class, () -> Tensor.ofFloats(SHAPE, 1f, 2f));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("12") && e.getMessage().contains("2"),
            e.getMessage());
        assertThrows(ShapeMismatchException.class, () -> Tensor.ofLongs(Shape.of(1)));
        assertThrows(ShapeMismatchException.class, () -> Tensor.ofInts(Shape.of(), 1, 2));
    }

    @Test
    void shouldWrapBytesWithoutCopying() {
        final ByteBuffer bytes = ByteBuffer.allocateDirect(20).order(ByteOrder.BIG_ENDIAN);
        bytes.position(4);
        final Tensor tensor = Tensor.wrap(DType.I32, Shape.of(2, 2), bytes);
        bytes.order(ByteOrder.LITTLE_ENDIAN).putInt(8, 42);
        assertEquals(42, tensor.view().getInt(1), "wrap shares memory, from the buffer's position, little-endian");
        tensor.setInt(3, 7);
        assertEquals(7, bytes.getInt(16));
        assertEquals(4, bytes.position(), "wrap leaves the caller's buffer alone");
    }

    @Test
    void shouldRejectWrappedBuffersOfTheWrongSize() {
        final ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
            () -> Tensor.wrap(DType.F32, Shape.of(2, 3), ByteBuffer.allocate(20)));
        assertTrue(e.getMessage().contains("24") && e.getMessage().contains("20") && e.getMessage().contains("[2, 3]"),
            e.getMessage());
        assertThrows(ShapeMismatchException.class, () -> Tensor.wrap(DType.F32, Shape.of(2), ByteBuffer.allocate(9)));
    }

    @Test
    void shouldRefuseTensorsLargerThanTheLimit() {
        final CapacityExceededException e = assertThrows(CapacityExceededException.class,
            () -> Tensor.allocate(DType.F32, Shape.of(1L << 29, 4)));
        assertTrue(e.getMessage().contains("[536870912, 4]") && e.getMessage().contains("8589934592")
            && e.getMessage().contains(String.valueOf(Tensor.MAX_BYTES)), e.getMessage());
        assertThrows(CapacityExceededException.class,
            () -> Tensor.allocateHeap(DType.I8, Shape.of(Tensor.MAX_BYTES + 1L)));
        assertThrows(CapacityExceededException.class,
            () -> Tensor.wrap(DType.F64, Shape.of(1L << 30), ByteBuffer.allocate(8)));
        assertThrows(InvalidShapeException.class, () -> Tensor.allocate(DType.F64, Shape.of(1L << 61)));
    }

    @Test
    void shouldHandleEmptyAndScalarTensors() {
        final Tensor empty = Tensor.allocate(DType.F32, Shape.of(0, 768));
        assertEquals(0, empty.byteSize());
        assertEquals(0, empty.view().toFloatArray().length);
        assertEquals(0, empty.view().crc32c());
        final Tensor scalar = Tensor.ofFloats(Shape.of(), 2.5f);
        assertEquals(4, scalar.byteSize());
        assertEquals(2.5f, scalar.view().getFloat(0));
    }

    @Test
    void shouldShareMemoryBetweenBufferAndViews() {
        final Tensor tensor = Tensor.ofFloats(Shape.of(2), 1f, 2f);
        final ByteBuffer buffer = tensor.buffer();
        assertEquals(ByteOrder.LITTLE_ENDIAN, buffer.order());
        assertEquals(0, buffer.position());
        assertEquals(8, buffer.limit());
        final TensorView view = tensor.view();
        assertNotSame(view, tensor.view());
        buffer.putFloat(4, 9f);
        assertEquals(9f, view.getFloat(1));
        buffer.position(8);
        assertEquals(0, tensor.buffer().position(), "each buffer() call is independent");
        assertArrayEquals(new float[] {1f, 9f}, tensor.view().toFloatArray());
        assertEquals("Tensor[F32 [2]]", tensor.toString());
        assertFalse(tensor.view().toString().isEmpty());
    }

    private static void fill(final Tensor tensor) {
        for (int i = 0; i < tensor.shape().elementCount(); i++) {
            switch (tensor.dtype()) {
                case F32: tensor.setFloat(i, (float) expected(DType.F32, i)); break;
                case F16:
                case BF16: tensor.setAsFloat(i, (float) expected(tensor.dtype(), i)); break;
                case F64: tensor.setDouble(i, expected(DType.F64, i)); break;
                case I64: tensor.setLong(i, (long) expected(DType.I64, i)); break;
                case I32: tensor.setInt(i, (int) expected(DType.I32, i)); break;
                case I16: tensor.setShort(i, (short) expected(DType.I16, i)); break;
                default: tensor.setByte(i, (byte) expected(tensor.dtype(), i)); break;
            }
        }
    }

    /** A value exactly representable in {@code dtype} for element {@code i} of a 12-element tensor. */
    private static double expected(final DType dtype, final int i) {
        switch (dtype) {
            case F64: return i * 0.1 - 0.3;
            case F32: return i * 0.25f - 1.5f;
            case F16:
            case BF16: return i * 0.5 - 2;
            case I64: return (i - 6) * 1_000_000_007L;
            case I32: return (i - 6) * 100_003;
            case I16: return (i - 6) * 1003;
            case I8: return i - 6;
            case U8: return 250 - i;
            case BOOL: return i % 2;
            default: throw new IllegalStateException(dtype.toString());
        }
    }
}
