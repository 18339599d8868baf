package io.actcache.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.HalfFloats;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes every dtype, with edge values, through the Java API, then reads the store with numpy the way a Python
 * user would ({@code src/test/python/read_store.py}: files found through {@code manifest.json}, opened with
 * {@code numpy.load(path, mmap_mode="r")}) and compares value for value, floats bit for bit.
 */
class NumpyInteropTest {
    private static final int WIDTH = 4;
    private static final int[] BATCH_ROWS = {1, 3, 2};

    @TempDir
    Path tmp;

    /** Raw bit patterns per dtype: negative, zero, extremes, subnormals, NaN and infinities where they exist. */
    private static final Map<DType, long[]> EDGES = new LinkedHashMap<>();

    static {
        EDGES.put(DType.F32, new long[] {bits(0f), bits(-0f), bits(1f), bits(-1.5f), bits(Float.MAX_VALUE),
            bits(-Float.MAX_VALUE), bits(Float.MIN_VALUE), bits(Float.MIN_NORMAL), bits(Float.POSITIVE_INFINITY),
            bits(Float.NEGATIVE_INFINITY), 0x7fc00000L, 0x7fa00001L, 0xffc00123L, bits(3.14159265f), bits(-1e-20f)});
        EDGES.put(DType.F16, new long[] {0x0000, 0x8000, 0x3c00, 0xbe00, 0x7bff, 0xfbff, 0x0001, 0x03ff, 0x8001,
            0x0400, 0x7c00, 0xfc00, 0x7e00, 0x7d01, 0x4248, 0x1400});
        EDGES.put(DType.BF16, new long[] {0x0000, 0x8000, 0x3f80, 0xbfc0, 0x7f7f, 0xff7f, 0x0001, 0x807f, 0x0080,
            0x7f80, 0xff80, 0x7fc0, 0x7f81, 0x4049, 0xc2f7});
        EDGES.put(DType.F64, new long[] {dbits(0), dbits(-0d), dbits(1), dbits(-1.5), dbits(Double.MAX_VALUE),
            dbits(-Double.MAX_VALUE), dbits(Double.MIN_VALUE), dbits(Double.MIN_NORMAL),
            dbits(Double.POSITIVE_INFINITY), dbits(Double.NEGATIVE_INFINITY), 0x7ff8000000000000L,
            0x7ff0000000000001L, dbits(Math.PI), dbits(1e300), dbits(-1e-300)});
        EDGES.put(DType.I64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1, (1L << 53) + 1, -(1L << 53) - 1,
            123_456_789_012_345L});
        EDGES.put(DType.I32, new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 1, 65_536, -65_537});
        EDGES.put(DType.I16, new long[] {Short.MIN_VALUE, Short.MAX_VALUE, 0, -1, 1, 255, -256});
        EDGES.put(DType.I8, new long[] {Byte.MIN_VALUE, Byte.MAX_VALUE, 0, -1, 1, 42});
        EDGES.put(DType.U8, new long[] {0, 255, 128, 1, 127, 200});
        EDGES.put(DType.BOOL, new long[] {0, 1, 1, 0, 0});
    }

    @Test
    void shouldReadEveryDtypeBitExactWithNumpyThroughTheManifest() throws IOException {
        Processes.requireNumpy();
        final Map<String, Expected> expected = writeStore(tmp.resolve("store"));

        final Processes.Result python = Processes.run(List.of("python3",
            Processes.home().resolve("src/test/python/read_store.py").toString(), tmp.resolve("store").toString()));
        assertEquals(0, python.code(), python.describe());
        final JsonNode keys = new ObjectMapper().readTree(python.out()).get("keys");

        assertEquals(expected.keySet().stream().sorted().toList(), sorted(keys.fieldNames()), python.out());
        expected.forEach((key, want) -> compare(key, want, keys.get(key)));
    }

    private static Map<String, Expected> writeStore(final Path dir) {
        final Map<String, Expected> expected = new LinkedHashMap<>();
        try (ActivationStore store =
                 ActivationStore.create(dir, StoreOptions.builder().durability(Durability.PROCESS).build())) {
            int seed = 0;
            for (final DType dtype : EDGES.keySet()) {
                final String key = "dtype." + dtype.name().toLowerCase();
                for (final int rows : BATCH_ROWS) {
                    final long[] values = values(dtype, rows * WIDTH, seed++);
                    store.append(key, tensor(dtype, Shape.of(rows, WIDTH), values));
                    expected.merge(key, new Expected(dtype, new long[] {rows, WIDTH}, values), Expected::concat);
                }
            }
            final long[] e = {dbits(Math.E)};
            store.put("rank0.f64", tensor(DType.F64, Shape.of(), e));
            expected.put("rank0.f64", new Expected(DType.F64, new long[0], e));

            for (final int rows : new int[] {2, 0, 3}) { // the middle append adds zero rows
                final long[] values = values(DType.I32, rows, seed++);
                store.append("rank1.i32", tensor(DType.I32, Shape.of(rows), values));
                expected.merge("rank1.i32", new Expected(DType.I32, new long[] {rows}, values), Expected::concat);
            }

            try (ActivationStore.Batch batch = store.batch()) { // two keys in one atomic commit, twice
                for (int i = 0; i < 2; i++) {
                    final long[] values = values(DType.F32, 2 * 2 * 3 * 2, seed++);
                    batch.append("rank4.f32", tensor(DType.F32, Shape.of(2, 2, 3, 2), values));
                    expected.merge("rank4.f32", new Expected(DType.F32, new long[] {2, 2, 3, 2}, values),
                        Expected::concat);
                }
                batch.append("empty.f16", tensor(DType.F16, Shape.of(0, 5), new long[0]));
                expected.put("empty.f16", new Expected(DType.F16, new long[] {0, 5}, new long[0]));
                batch.commit();
            }
        }
        return expected;
    }

    /** The dtype's edge values, cycled, starting at an offset that differs per batch. */
    private static long[] values(final DType dtype, final int count, final int seed) {
        final long[] edges = EDGES.get(dtype);
        final long[] values = new long[count];
        for (int i = 0; i < count; i++) {
            values[i] = edges[(i + seed) % edges.length];
        }
        return values;
    }

    private static Tensor tensor(final DType dtype, final Shape shape, final long[] bits) {
        final Tensor tensor = Tensor.allocate(dtype, shape);
        final ByteBuffer buffer = tensor.buffer();
        for (final long value : bits) {
            switch (dtype.byteWidth()) {
                case 1: buffer.put((byte) value); break;
                case 2: buffer.putShort((short) value); break;
                case 4: buffer.putInt((int) value); break;
                default: buffer.putLong(value);
            }
        }
        return tensor;
    }

    private static void compare(final String key, final Expected want, final JsonNode got) {
        final String where = "key " + key + " (" + want.dtype + ")";
        assertEquals(want.dtype.npyDescr(), got.get("dtype").asText(), where);
        assertEquals(want.dtype.name(), got.get("manifestDtype").asText(), where);
        assertEquals(Arrays.toString(want.shape), got.get("shape").toString().replace(",", ", "), where);
        final JsonNode values = got.get("values");
        assertEquals(want.bits.length, values.size(), where);
        for (int i = 0; i < want.bits.length; i++) {
            final String at = where + " element " + i;
            final long bits = want.bits[i];
            if (want.dtype.isFloatingPoint()) {
                final long mask = want.dtype.byteWidth() == 8 ? -1L : (1L << (8 * want.dtype.byteWidth())) - 1;
                assertEquals(bits & mask, got.get("bits").get(i).bigIntegerValue().longValue(), at + " bits");
                assertFloat(floatValue(want.dtype, bits), values.get(i), at);
            } else if (want.dtype == DType.BOOL) {
                assertEquals(bits != 0, values.get(i).booleanValue(), at);
            } else {
                final long value = want.dtype == DType.U8 ? bits & 0xFF : bits;
                assertEquals(value, values.get(i).longValue(), at);
            }
        }
    }

    private static double floatValue(final DType dtype, final long bits) {
        switch (dtype) {
            case F16: return HalfFloats.f16ToFloat((short) bits);
            case BF16: return HalfFloats.bf16ToFloat((short) bits);
            case F32: return Float.intBitsToFloat((int) bits);
            default: return Double.longBitsToDouble(bits);
        }
    }

    private static void assertFloat(final double want, final JsonNode got, final String at) {
        if (Double.isNaN(want)) {
            assertEquals("nan", got.asText(), at);
        } else if (Double.isInfinite(want)) {
            assertEquals(want > 0 ? "inf" : "-inf", got.asText(), at);
        } else {
            assertTrue(got.isNumber(), at + ": " + got);
            assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got.doubleValue()), at + ": " + got);
        }
    }

    private static List<String> sorted(final Iterator<String> names) {
        final List<String> list = new ArrayList<>();
        names.forEachRemaining(list::add);
        list.sort(null);
        return list;
    }

    private static long bits(final float value) {
        return Float.floatToRawIntBits(value) & 0xFFFFFFFFL;
    }

    private static long dbits(final double value) {
        return Double.doubleToRawLongBits(value);
    }

    /** What a key must hold: dtype, shape and the raw bits of its elements in row-major order. */
    private record Expected(DType dtype, long[] shape, long[] bits) {
        Expected concat(final Expected more) {
            final long[] grown = shape.clone();
            grown[0] += more.shape[0];
            final long[] all = Arrays.copyOf(bits, bits.length + more.bits.length);
            System.arraycopy(more.bits, 0, all, bits.length, more.bits.length);
            return new Expected(dtype, grown, all);
        }
    }
}
