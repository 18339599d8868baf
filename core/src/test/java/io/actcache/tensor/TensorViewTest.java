package io.actcache.tensor;

import io.actcache.InvalidShapeException;
import io.actcache.ShapeMismatchException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorViewTest {
    private static final int CHUNK = 64;

    @TempDir
    Path dir;

    @Test
    void shouldSliceRowsWithoutCopying() {
        final Tensor tensor = Tensor.ofFloats(Shape.of(4, 3), floats(12, 0));
        final TensorView view = tensor.view();
        final TensorView middle = view.rows(1, 3);
        assertEquals(Shape.of(2, 3), middle.shape());
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, middle.toFloatArray());
        final TensorView row = view.row(2);
        assertEquals(Shape.of(3), row.shape());
        assertArrayEquals(new float[] {6, 7, 8}, row.toFloatArray());
        final TensorView element = row.row(1);
        assertEquals(Shape.of(), element.shape());
        assertEquals(7f, element.getFloat(0));
        assertEquals(0, view.rows(4, 4).elementCount());
        assertEquals(0, view.rows(0, 0).byteSize());
        tensor.setFloat(7, -1f);
        assertEquals(-1f, middle.getFloat(4), "rows share the tensor's memory");
        assertEquals(-1f, row.getFloat(1), "row shares the tensor's memory");
        assertEquals(-1f, element.getFloat(0));
    }

    @Test
    void shouldRejectOutOfRangeRowsNamingTheRangeAndResource() {
        final TensorView view = Tensor.ofFloats(Shape.of(3, 2), floats(6, 0)).view();
        final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> view.rows(2, 5));
        assertEquals("rows [2, 5) out of [0, 3) in tensor F32 [3, 2]", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> view.rows(-1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> view.rows(2, 1));
        final IndexOutOfBoundsException row = assertThrows(IndexOutOfBoundsException.class, () -> view.row(3));
        assertTrue(row.getMessage().contains("[3, 4)"), row.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> view.row(Long.MAX_VALUE));
        final TensorView scalar = Tensor.ofFloats(Shape.of(), 1f).view();
        final InvalidShapeException s = assertThrows(InvalidShapeException.class, () -> scalar.rows(0, 1));
        assertTrue(s.getMessage().contains("scalar"), s.getMessage());
    }

    @Test
    void shouldRejectOutOfRangeElementsNamingIndexAndShape() {
        final TensorView view = Tensor.ofFloats(Shape.of(2, 2), floats(4, 0)).view();
        final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> view.getFloat(4));
        assertEquals("element 4 out of [0, 4) of [2, 2] in tensor F32 [2, 2]", e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> view.getAsFloat(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> view.rows(0, 1).getFloat(2));
    }

    @Test
    void shouldRejectGettersOfTheWrongDTypeNamingIt() {
        final TensorView i32 = Tensor.ofInts(Shape.of(2), 1, 2).view();
        final ShapeMismatchException f = assertThrows(ShapeMismatchException.class, () -> i32.getFloat(0));
        assertTrue(f.getMessage().contains("F32") && f.getMessage().contains("I32"), f.getMessage());
        assertThrows(ShapeMismatchException.class, () -> i32.getDouble(0));
        assertThrows(ShapeMismatchException.class, () -> i32.getLong(0));
        final ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> i32.getShort(0));
        assertTrue(s.getMessage().contains("2-byte") && s.getMessage().contains("I32"), s.getMessage());
        final ShapeMismatchException b = assertThrows(ShapeMismatchException.class, () -> i32.getByte(0));
        assertTrue(b.getMessage().contains("1-byte") && b.getMessage().contains("I32"), b.getMessage());
        final TensorView f32 = Tensor.ofFloats(Shape.of(1), 1f).view();
        final ShapeMismatchException i = assertThrows(ShapeMismatchException.class, () -> f32.getInt(0));
        assertTrue(i.getMessage().contains("I32") && i.getMessage().contains("F32"), i.getMessage());
    }

    @Test
    void shouldCopyToFloatsConvertingHalfPrecision() {
        final Tensor f16 = Tensor.allocate(DType.F16, Shape.of(5));
        final Tensor bf16 = Tensor.allocate(DType.BF16, Shape.of(5));
        final float[] values = {0f, -1.5f, 65504f, 0x1p-24f, Float.NEGATIVE_INFINITY};
        for (int i = 0; i < values.length; i++) {
            f16.setAsFloat(i, values[i]);
            bf16.setAsFloat(i, i == 2 ? 3.0e38f : values[i]);
        }
        final float[] out = new float[7];
        Arrays.fill(out, 99f);
        f16.view().copyTo(1, out, 2, 4);
        assertArrayEquals(new float[] {99, 99, -1.5f, 65504f, 0x1p-24f, Float.NEGATIVE_INFINITY, 99}, out);
        assertArrayEquals(new float[] {0f, -1.5f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(3.0e38f)), 0x1p-24f,
            Float.NEGATIVE_INFINITY}, bf16.view().toFloatArray());
        assertArrayEquals(new float[] {-3, 0, 5}, Tensor.ofInts(Shape.of(3), -3, 0, 5).view().toFloatArray());
        assertArrayEquals(new float[] {1f, 2f}, Tensor.ofLongs(Shape.of(2), 1, 2).view().toFloatArray());
    }

    @Test
    void shouldRejectFloatCopiesOutOfRange() {
        final TensorView view = Tensor.ofFloats(Shape.of(4), floats(4, 0)).view();
        final IndexOutOfBoundsException source =
            assertThrows(IndexOutOfBoundsException.class, () -> view.copyTo(2, new float[8], 0, 3));
        assertTrue(source.getMessage().contains("[2, 5)") && source.getMessage().contains("[0, 4)"),
            source.getMessage());
        final IndexOutOfBoundsException target =
            assertThrows(IndexOutOfBoundsException.class, () -> view.copyTo(0, new float[3], 1, 3));
        assertTrue(target.getMessage().contains("float[3]"), target.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> view.copyTo(0, new float[3], -1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> view.copyTo(0, new float[3], 0, -1));
    }

    @Test
    void shouldCopyRawBytes() {
        final Tensor tensor = Tensor.ofInts(Shape.of(3), 0x04030201, 0x08070605, 0x0C0B0A09);
        final ByteBuffer all = ByteBuffer.allocate(14);
        all.position(1);
        tensor.view().copyTo(all);
        assertEquals(13, all.position());
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0}, all.array());
        final ByteBuffer part = ByteBuffer.allocate(5);
        tensor.view().copyBytesTo(3, part, 5);
        assertArrayEquals(new byte[] {4, 5, 6, 7, 8}, part.array());
        assertThrows(IndexOutOfBoundsException.class, () -> tensor.view().copyTo(ByteBuffer.allocate(11)));
        assertThrows(IndexOutOfBoundsException.class, () -> tensor.view().copyBytesTo(10, ByteBuffer.allocate(8), 3));
        assertThrows(IndexOutOfBoundsException.class, () -> tensor.view().copyBytesTo(-1, ByteBuffer.allocate(8), 1));
    }

    @Test
    void shouldCopyIntoAnotherTensor() {
        final Tensor source = Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 4);
        final Tensor target = Tensor.allocate(DType.F32, Shape.of(3, 2));
        source.view().copyTo(target, 2);
        assertArrayEquals(new float[] {0, 0, 1, 2, 3, 4}, target.view().toFloatArray());
        source.view().row(1).copyTo(target, 0);
        assertArrayEquals(new float[] {3, 4, 1, 2, 3, 4}, target.view().toFloatArray());
        final ShapeMismatchException dtype = assertThrows(ShapeMismatchException.class,
            () -> source.view().copyTo(Tensor.allocate(DType.F64, Shape.of(4)), 0));
        assertTrue(dtype.getMessage().contains("F32") && dtype.getMessage().contains("F64"), dtype.getMessage());
        final IndexOutOfBoundsException range =
            assertThrows(IndexOutOfBoundsException.class, () -> source.view().copyTo(target, 3));
        assertTrue(range.getMessage().contains("4 elements at 3") && range.getMessage().contains("6 elements"),
            range.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> source.view().copyTo(target, -1));
    }

    @Test
    void shouldCompareContent() {
        final TensorView a = Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 4).view();
        assertTrue(a.contentEquals(Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 4).view()));
        assertTrue(a.contentEquals(a));
        assertFalse(a.contentEquals(Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 5).view()));
        assertFalse(a.contentEquals(Tensor.ofFloats(Shape.of(4), 1, 2, 3, 4).view()), "shape differs");
        assertFalse(a.contentEquals(Tensor.ofInts(Shape.of(2, 2), 0x3F800000, 0x40000000, 0x40400000, 0x40800000)
            .view()), "dtype differs though the bytes match");
        assertTrue(a.rows(1, 2).contentEquals(Tensor.ofFloats(Shape.of(1, 2), 3, 4).view()));
    }

    @Test
    void shouldComputeCrc32cOverTheViewsBytes() {
        final Tensor tensor = Tensor.ofFloats(Shape.of(10, 3), floats(30, 0.37f));
        assertEquals(crc32c(tensor.buffer()), tensor.view().crc32c());
        assertEquals(crc32c(tensor.buffer().position(12).limit(36)), tensor.view().rows(1, 3).crc32c());
    }

    @Test
    void shouldWriteToAFileChannelAtAPosition() throws IOException {
        final Tensor tensor = Tensor.ofLongs(Shape.of(3), 1, -2, 3);
        final Path file = dir.resolve("out.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(24, tensor.view().writeTo(ch, 5));
            assertEquals(8, tensor.view().row(2).writeTo(ch, 29));
        }
        final byte[] expected = new byte[37];
        tensor.buffer().get(expected, 5, 24);
        tensor.buffer().position(16).get(expected, 29, 8);
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void shouldReadElementsAcrossChunkBoundariesFetchingEachChunkOnce() {
        for (final DType dtype : DType.values()) {
            final int count = 100;
            final ByteBuffer bytes = pattern(dtype, count);
            final SlicedMemory memory = new SlicedMemory(bytes, CHUNK);
            final TensorView view = new TensorView(dtype, Shape.of(count), memory, 0);
            for (int i = 0; i < count; i++) {
                assertEquals(patternValue(dtype, bytes, i), view.getAsDouble(i), dtype + " element " + i);
            }
            assertEquals(memory.chunkCount(), memory.chunkForCalls(), dtype + ": one chunkFor per chunk");
            assertEquals(memory.chunkCount(), memory.chunksCreated());
        }
    }

    @Test
    void shouldUseTypedGettersAcrossChunks() {
        final SlicedMemory f64 = new SlicedMemory(pattern(DType.F64, 20), CHUNK);
        final TensorView doubles = new TensorView(DType.F64, Shape.of(20), f64, 0);
        final SlicedMemory i16 = new SlicedMemory(pattern(DType.I16, 70), CHUNK);
        final TensorView shorts = new TensorView(DType.I16, Shape.of(70), i16, 0);
        for (int i = 0; i < 20; i++) {
            assertEquals(f64.bytes().getDouble(i * 8), doubles.getDouble(i));
        }
        for (int i = 0; i < 70; i++) {
            assertEquals(i16.bytes().getShort(i * 2), shorts.getShort(i));
        }
    }

    @Test
    void shouldSliceRowsAndCopyAcrossChunks() {
        final float[] values = floats(120, 0.5f);
        final SlicedMemory memory = new SlicedMemory(floatBytes(values), CHUNK);
        // 10 rows of 12 floats: 48-byte rows, so rows straddle the 64-byte chunk boundaries.
        final TensorView view = new TensorView(DType.F32, Shape.of(10, 12), memory, 0);
        assertArrayEquals(values, view.toFloatArray());
        assertArrayEquals(Arrays.copyOfRange(values, 36, 48), view.row(3).toFloatArray());
        assertArrayEquals(Arrays.copyOfRange(values, 24, 84), view.rows(2, 7).toFloatArray());
        assertEquals(values[12 * 5 + 7], view.row(5).getFloat(7));
        final float[] part = new float[50];
        view.copyTo(13, part, 3, 40);
        assertArrayEquals(Arrays.copyOfRange(values, 13, 53), Arrays.copyOfRange(part, 3, 43));
        final ByteBuffer bytes = ByteBuffer.allocate(144);
        view.rows(1, 4).copyTo(bytes);
        assertEquals(memory.bytes().position(48).limit(192), bytes.flip());
        final ByteBuffer odd = ByteBuffer.allocate(101);
        view.copyBytesTo(7, odd, 101);
        assertEquals(memory.bytes().position(7).limit(108), odd.flip());
        assertEquals(crc32c(memory.bytes()), view.crc32c());
        assertEquals(crc32c(memory.bytes().position(48 * 3).limit(48 * 8)), view.rows(3, 8).crc32c());
        final Tensor target = Tensor.allocate(DType.F32, Shape.of(6, 12));
        view.rows(4, 9).copyTo(target, 12);
        assertArrayEquals(Arrays.copyOfRange(values, 48, 108),
            Arrays.copyOfRange(target.view().toFloatArray(), 12, 72));
    }

    @Test
    void shouldCompareAndWriteAcrossDifferentChunkLayouts() throws IOException {
        final float[] values = floats(100, -3.25f);
        final TensorView sixtyFour = sliced(values, 64);
        final TensorView tiny = sliced(values, 24);
        final TensorView flat = Tensor.ofFloats(Shape.of(100), values).view();
        assertTrue(sixtyFour.contentEquals(tiny));
        assertTrue(tiny.contentEquals(flat));
        assertTrue(flat.contentEquals(sixtyFour));
        final float[] changed = values.clone();
        changed[99] = 0f;
        final TensorView other = sliced(changed, 40);
        assertFalse(sixtyFour.contentEquals(other));
        assertFalse(other.contentEquals(flat));
        final Path file = dir.resolve("chunks.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(400, tiny.writeTo(ch, 3));
            assertEquals(48, tiny.rows(10, 22).writeTo(ch, 403));
        }
        final byte[] written = Files.readAllBytes(file);
        final byte[] expected = new byte[451];
        floatBytes(values).get(expected, 3, 400);
        floatBytes(values).position(40).get(expected, 403, 48);
        assertArrayEquals(expected, written);
    }

    @Test
    void shouldFetchAFreshChunkAfterOneIsReleased() {
        final float[] values = floats(64, 1.25f);
        final SlicedMemory memory = new SlicedMemory(floatBytes(values), CHUNK);
        final TensorView view = new TensorView(DType.F32, Shape.of(64), memory, 0);
        assertEquals(values[0], view.getFloat(0));
        assertEquals(values[15], view.getFloat(15));
        assertEquals(1, memory.chunkForCalls(), "reads within a live chunk reuse it");
        memory.release(0);
        assertEquals(values[1], view.getFloat(1), "a released chunk must not be read");
        assertEquals(values[2], view.getAsFloat(2));
        assertEquals(2, memory.chunkForCalls());
        assertEquals(2, memory.chunksCreated());
        assertEquals(values[20], view.getFloat(20));
        memory.release(1);
        memory.release(0);
        assertEquals(values[21], view.getAsDouble(21));
        assertEquals(values[3], view.getFloat(3));
    }

    @Test
    void shouldSurviveReleasesDuringBulkOperations() throws IOException {
        final float[] values = floats(96, 2.5f);
        final ByteBuffer source = floatBytes(values);
        final SlicedMemory memory = new SlicedMemory(source, CHUNK);
        final TensorView view = new TensorView(DType.F32, Shape.of(8, 12), memory, 0);
        final TensorView rows = view.rows(2, 7);
        assertArrayEquals(values, view.toFloatArray());
        memory.releaseAll();
        assertArrayEquals(Arrays.copyOfRange(values, 24, 84), rows.toFloatArray());
        memory.releaseAll();
        assertEquals(crc32c(floatBytes(values)), view.crc32c());
        memory.releaseAll();
        final ByteBuffer copy = ByteBuffer.allocate(384);
        view.copyTo(copy);
        assertEquals(floatBytes(values), copy.flip());
        memory.releaseAll();
        assertTrue(view.contentEquals(Tensor.ofFloats(Shape.of(8, 12), values).view()));
        memory.releaseAll();
        final Path file = dir.resolve("released.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            view.writeTo(ch, 0);
        }
        assertEquals(floatBytes(values), ByteBuffer.wrap(Files.readAllBytes(file)));
        memory.releaseAll();
        final Tensor target = Tensor.allocate(DType.F32, Shape.of(8, 12));
        view.copyTo(target, 0);
        assertArrayEquals(values, target.view().toFloatArray());
        final TensorView duplicate = view.duplicate();
        memory.releaseAll();
        assertEquals(values[95], duplicate.getFloat(95));
        assertEquals(values[95], view.getFloat(95));
    }

    @Test
    void shouldReadAViewThatStartsInsideTheMemory() {
        final long[] longs = new long[40];
        for (int i = 0; i < longs.length; i++) {
            longs[i] = i * 0x1_0000_0001L;
        }
        final ByteBuffer bytes = ByteBuffer.allocate(320).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(longs);
        final SlicedMemory memory = new SlicedMemory(bytes, CHUNK);
        final TensorView view = new TensorView(DType.I64, Shape.of(5, 6), memory, 80);
        assertEquals(longs[10], view.getLong(0));
        assertEquals(longs[10 + 29], view.getLong(29));
        assertEquals(longs[10 + 6 * 3 + 2], view.row(3).getLong(2));
        assertEquals(crc32c(memory.bytes().position(80).limit(320)), view.crc32c());
    }

    @Test
    void shouldAllocateNothingOnElementReads() {
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
            "this JVM does not measure thread allocation");
        final Tensor tensor = Tensor.ofFloats(Shape.of(64, 64), floats(4096, 0.001f));
        final TensorView view = tensor.view();
        float sink = 0;
        for (int i = 0; i < 5; i++) {
            sink += readLoop(view, 2_000_000);
        }
        // Same counter as getThreadAllocatedBytes(Thread.currentThread().getId()), without the deprecated getId().
        threads.getCurrentThreadAllocatedBytes();
        final long before = threads.getCurrentThreadAllocatedBytes();
        sink += readLoop(view, 10_000_000);
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 64 * 1024, "10 million element reads allocated " + allocated + " bytes");
        assertFalse(Float.isNaN(sink));
    }

    /** Alternates getFloat and getAsFloat over the view; the sum keeps the JIT from dropping the reads. */
    private static float readLoop(final TensorView view, final int reads) {
        final long mask = view.elementCount() - 1;
        float sum = 0;
        for (int i = 0; i < reads; i += 2) {
            sum += view.getFloat(i & mask);
            sum += view.getAsFloat((i + 1) & mask);
        }
        return sum;
    }

    private static TensorView sliced(final float[] values, final int chunkSize) {
        return new TensorView(DType.F32, Shape.of(values.length), new SlicedMemory(floatBytes(values), chunkSize), 0);
    }

    private static float[] floats(final int count, final float step) {
        final float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = step == 0 ? i : i * step - count * step / 3;
        }
        return values;
    }

    private static ByteBuffer floatBytes(final float[] values) {
        final ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return bytes;
    }

    /** {@code count} elements of {@code dtype} with distinct, valid bit patterns. */
    private static ByteBuffer pattern(final DType dtype, final int count) {
        final ByteBuffer bytes = ByteBuffer.allocate(count * dtype.byteWidth()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            switch (dtype) {
                case F32: bytes.putFloat(i * 1.5f - 40); break;
                case F64: bytes.putDouble(i * 0.1 - 4); break;
                case F16: bytes.putShort(HalfFloats.floatToF16(i * 0.75f - 30)); break;
                case BF16: bytes.putShort(HalfFloats.floatToBf16(i * 0.75f - 30)); break;
                case I64: bytes.putLong((i - 50) * 0x1_0000_0001L); break;
                case I32: bytes.putInt((i - 50) * 65537); break;
                case I16: bytes.putShort((short) ((i - 50) * 301)); break;
                case BOOL: bytes.put((byte) (i % 2)); break;
                default: bytes.put((byte) (i * 3 - 128)); break;
            }
        }
        return bytes.flip();
    }

    private static double patternValue(final DType dtype, final ByteBuffer bytes, final int i) {
        switch (dtype) {
            case F32: return bytes.getFloat(i * 4);
            case F64: return bytes.getDouble(i * 8);
            case F16: return HalfFloats.f16ToFloat(bytes.getShort(i * 2));
            case BF16: return HalfFloats.bf16ToFloat(bytes.getShort(i * 2));
            case I64: return bytes.getLong(i * 8);
            case I32: return bytes.getInt(i * 4);
            case I16: return bytes.getShort(i * 2);
            case I8: return bytes.get(i);
            default: return bytes.get(i) & 0xFF;
        }
    }

    private static long crc32c(final ByteBuffer bytes) {
        final CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        return crc.getValue();
    }
}
