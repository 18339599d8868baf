package io.actcache.tensor;

import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatsTest {
    private static final int PATTERNS = 1 << 16;
    /** Float bit patterns visited by the sweeps: every 997th, about 4.3 million. */
    private static final int SWEEP_STEP = 997;

    @Test
    void shouldRoundTripEveryF16BitPattern() {
        for (int pattern = 0; pattern < PATTERNS; pattern++) {
            final int bits = pattern;
            final short half = (short) bits;
            final float value = HalfFloats.f16ToFloat(half);
            final short back = HalfFloats.floatToF16(value);
            if (isF16NaN(half)) {
                assertTrue(Float.isNaN(value), () -> hex(bits));
                assertTrue(isF16NaN(back), () -> hex(bits) + " -> " + hex(back));
                assertEquals(bits & 0x8000, back & 0x8000, () -> "sign of NaN " + hex(bits));
            } else {
                assertEquals(half, back, () -> hex(bits) + " -> " + value + " -> " + hex(back));
            }
        }
    }

    @Test
    void shouldDecodeEveryF16BitPatternToItsExactValue() {
        for (int pattern = 0; pattern < PATTERNS; pattern++) {
            final int bits = pattern;
            final float value = HalfFloats.f16ToFloat((short) bits);
            final int exponent = (bits >>> 10) & 0x1F;
            final int mantissa = bits & 0x3FF;
            final double sign = (bits & 0x8000) != 0 ? -1 : 1;
            final double expected;
            if (exponent == 0x1F) {
                expected = mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
            } else if (exponent == 0) {
                expected = sign * Math.scalb((double) mantissa, -24);
            } else {
                expected = sign * Math.scalb((double) (1024 + mantissa), exponent - 25);
            }
            assertEquals(expected, value, () -> hex(bits)); // compares bits: NaN equals NaN, -0.0 differs from 0.0
            assertEquals(bits >>> 15, Float.floatToRawIntBits(value) >>> 31, () -> "sign of " + hex(bits));
        }
    }

    @Test
    void shouldDecodeKnownF16Values() {
        assertEquals(1.0f, HalfFloats.f16ToFloat((short) 0x3C00));
        assertEquals(-2.0f, HalfFloats.f16ToFloat((short) 0xC000));
        assertEquals(65504.0f, HalfFloats.f16ToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat((short) 0x0001));
        assertEquals(0x1p-14f, HalfFloats.f16ToFloat((short) 0x0400));
        assertEquals(0x3FFp-24f, HalfFloats.f16ToFloat((short) 0x03FF));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat((short) 0x7C00));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat((short) 0xFC00));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x8000)));
        assertTrue(Float.isNaN(HalfFloats.f16ToFloat((short) 0x7E00)));
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1.0f));
        assertEquals((short) 0xC000, HalfFloats.floatToF16(-2.0f));
        assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65504.0f));
        assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1p-24f));
        assertEquals((short) 0x7C00, HalfFloats.floatToF16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFC00, HalfFloats.floatToF16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, HalfFloats.floatToF16(-0.0f));
        assertTrue(isF16NaN(HalfFloats.floatToF16(Float.NaN)));
        assertTrue(isF16NaN(HalfFloats.floatToF16(Float.intBitsToFloat(0x7F80_0001))), "low-payload NaN stays NaN");
    }

    @Test
    void shouldRoundF16TiesToEven() {
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1.0f + 0x1p-11f), "tie between 0x3C00 and 0x3C01");
        assertEquals((short) 0x3C02, HalfFloats.floatToF16(1.0f + 0x3p-11f), "tie between 0x3C01 and 0x3C02");
        assertEquals((short) 0x3C01, HalfFloats.floatToF16(1.0f + 0x1p-11f + 0x1p-23f), "just above a tie");
        assertEquals((short) 0x3C00, HalfFloats.floatToF16(1.0f + 0x1p-11f - 0x1p-23f), "just below a tie");
        assertEquals((short) 0x0000, HalfFloats.floatToF16(0x1p-25f), "tie between 0 and the smallest subnormal");
        assertEquals((short) 0x0001, HalfFloats.floatToF16(0x1.000002p-25f), "just above half the smallest subnormal");
        assertEquals((short) 0x0002, HalfFloats.floatToF16(0x3p-25f), "subnormal tie rounds to even");
        assertEquals((short) 0x0400, HalfFloats.floatToF16(0x7FFp-25f), "largest subnormal tie carries to normal");
        assertEquals((short) 0x8000, HalfFloats.floatToF16(-0x1p-26f));
        assertEquals((short) 0x7BFF, HalfFloats.floatToF16(65519.996f), "below the overflow threshold");
        assertEquals((short) 0x7C00, HalfFloats.floatToF16(65520.0f), "tie at the top rounds to infinity");
        assertEquals((short) 0xFC00, HalfFloats.floatToF16(-1e9f));
        assertEquals((short) 0x0000, HalfFloats.floatToF16(Float.MIN_VALUE));
    }

    @Test
    void shouldRoundEveryF16BoundaryAndASweepOfFloatsToNearest() {
        for (int bits = 0; bits < 0x7C00; bits++) {
            final float low = HalfFloats.f16ToFloat((short) bits);
            final float high = bits == 0x7BFF ? 65536f : HalfFloats.f16ToFloat((short) (bits + 1));
            final float middle = (float) ((low + (double) high) / 2);
            for (final float value : new float[] {low, middle, Math.nextDown(middle), Math.nextUp(middle)}) {
                checkF16Rounding(value);
                checkF16Rounding(-value);
            }
        }
        for (long bits = 0; bits <= 0xFFFF_FFFFL; bits += SWEEP_STEP) {
            checkF16Rounding(Float.intBitsToFloat((int) bits));
        }
    }

    @Test
    void shouldMatchTheJdkFloat16ConversionsWhenAvailable() throws ReflectiveOperationException {
        final Method toFloat = jdkMethod("float16ToFloat", short.class);
        final Method toHalf = jdkMethod("floatToFloat16", float.class);
        if (toFloat == null || toHalf == null) {
            // JDK 17 has no binary16 conversions; the suite also runs on JDK 25, where this comparison runs.
            assertTrue(Runtime.version().feature() < 20, "JDK " + Runtime.version() + " lacks Float.float16ToFloat");
            return;
        }
        for (int pattern = 0; pattern < PATTERNS; pattern++) {
            final int bits = pattern;
            final float ours = HalfFloats.f16ToFloat((short) bits);
            final float jdk = (float) invoke(toFloat, (short) bits);
            if (Float.isNaN(jdk)) {
                assertTrue(Float.isNaN(ours), () -> hex(bits));
            } else {
                assertEquals(Float.floatToRawIntBits(jdk), Float.floatToRawIntBits(ours), () -> hex(bits));
            }
            final float middle = (bits & 0x7FFF) >= 0x7C00 ? ours : (float) ((ours + (double) nextF16(bits)) / 2);
            for (final float value : new float[] {ours, middle, Math.nextDown(middle), Math.nextUp(middle)}) {
                assertSameF16(value, (short) invoke(toHalf, value));
            }
        }
        for (long bits = 0; bits <= 0xFFFF_FFFFL; bits += SWEEP_STEP * 7) {
            final float value = Float.intBitsToFloat((int) bits);
            assertSameF16(value, (short) invoke(toHalf, value));
        }
    }

    @Test
    void shouldRoundTripEveryBf16BitPattern() {
        for (int pattern = 0; pattern < PATTERNS; pattern++) {
            final int bits = pattern;
            final short half = (short) bits;
            final float value = HalfFloats.bf16ToFloat(half);
            assertEquals(bits << 16, Float.floatToRawIntBits(value), () -> hex(bits));
            final short back = HalfFloats.floatToBf16(value);
            if (Float.isNaN(value)) {
                assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(back)), () -> hex(bits) + " -> " + hex(back));
                assertEquals(bits & 0x8000, back & 0x8000, () -> "sign of NaN " + hex(bits));
            } else {
                assertEquals(half, back, () -> hex(bits) + " -> " + value + " -> " + hex(back));
            }
        }
    }

    @Test
    void shouldRoundBf16TiesToEven() {
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(1.0f));
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(1.00390625f), "tie between 1.0 and 1.0078125");
        assertEquals((short) 0x3F82, HalfFloats.floatToBf16(1.01171875f), "tie between 0x3F81 and 0x3F82");
        assertEquals((short) 0x3F81, HalfFloats.floatToBf16(Math.nextUp(1.00390625f)), "just above a tie");
        assertEquals((short) 0x3F80, HalfFloats.floatToBf16(Math.nextDown(1.00390625f)), "just below a tie");
        assertEquals((short) 0xBF80, HalfFloats.floatToBf16(-1.00390625f));
        assertEquals((short) 0x7F80, HalfFloats.floatToBf16(Float.MAX_VALUE), "above the largest bf16 + half ulp");
        assertEquals((short) 0xFF80, HalfFloats.floatToBf16(Float.NEGATIVE_INFINITY));
        assertEquals((short) 0x8000, HalfFloats.floatToBf16(-0.0f));
        assertEquals((short) 0x0000, HalfFloats.floatToBf16(Float.MIN_VALUE), "smallest subnormal is below a tie");
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F80_0001)))),
            "a NaN whose payload is only in the dropped bits stays NaN");
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0xFFFF_FFFF)))));
    }

    @Test
    void shouldRoundEveryBf16BoundaryAndASweepOfFloatsToNearest() {
        for (int bits = 0; bits < 0x7F80; bits++) {
            final int middle = (bits << 16) | 0x8000;
            for (final int f : new int[] {bits << 16, middle, middle - 1, middle + 1}) {
                checkBf16Rounding(Float.intBitsToFloat(f));
                checkBf16Rounding(-Float.intBitsToFloat(f));
            }
        }
        for (long bits = 0; bits <= 0xFFFF_FFFFL; bits += SWEEP_STEP) {
            checkBf16Rounding(Float.intBitsToFloat((int) bits));
        }
    }

    /** Reference: the nearest of the two F16 neighbours by exact double arithmetic, ties to the even pattern. */
    private static void checkF16Rounding(final float value) {
        final short actual = HalfFloats.floatToF16(value);
        if (Float.isNaN(value)) {
            assertTrue(isF16NaN(actual), () -> value + " -> " + hex(actual));
            return;
        }
        final double magnitude = Math.abs((double) value);
        int low = 0;
        int high = 0x7C00; // largest pattern whose value is <= magnitude, by binary search over monotonic patterns
        while (low < high) {
            final int mid = (low + high + 1) >>> 1;
            if (f16Magnitude(mid) <= magnitude) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        int expected = low;
        if (low < 0x7C00 && f16Magnitude(low) != magnitude) {
            final double below = magnitude - f16Magnitude(low);
            final double above = f16Magnitude(low + 1) - magnitude;
            if (above < below || (above == below && (low & 1) != 0)) {
                expected = low + 1;
            }
        }
        final int sign = Float.floatToRawIntBits(value) < 0 ? 0x8000 : 0;
        assertEquals((short) (sign | expected), actual, () -> value + " (" + Float.toHexString(value) + ")");
    }

    /** The value of a non-negative F16 pattern, taking 0x7C00 (infinity) as 65536 for rounding purposes. */
    private static double f16Magnitude(final int bits) {
        return bits == 0x7C00 ? 65536 : HalfFloats.f16ToFloat((short) bits);
    }

    private static void checkBf16Rounding(final float value) {
        final short actual = HalfFloats.floatToBf16(value);
        if (Float.isNaN(value)) {
            assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(actual)), () -> value + " -> " + hex(actual));
            return;
        }
        final int f = Float.floatToRawIntBits(value);
        final int truncated = f >>> 16;
        int expected = truncated;
        if ((truncated & 0x7FFF) < 0x7F80) {
            final double magnitude = Math.abs((double) value);
            final double below = magnitude - Math.abs((double) HalfFloats.bf16ToFloat((short) truncated));
            final double next = (truncated & 0x7FFF) == 0x7F7F
                ? 0x1p128 : Math.abs((double) HalfFloats.bf16ToFloat((short) (truncated + 1)));
            final double above = next - magnitude;
            if (above < below || (above == below && (truncated & 1) != 0)) {
                expected = truncated + 1;
            }
        }
        assertEquals((short) expected, actual, () -> value + " (" + Float.toHexString(value) + ")");
    }

    private static void assertSameF16(final float value, final short jdk) {
        final short ours = HalfFloats.floatToF16(value);
        if (isF16NaN(jdk)) {
            assertTrue(isF16NaN(ours), () -> value + " -> " + hex(ours));
        } else {
            assertEquals(jdk, ours, () -> value + " (" + Float.toHexString(value) + ")");
        }
    }

    private static float nextF16(final int bits) {
        return (bits & 0x7FFF) == 0x7BFF ? Math.copySign(65536f, HalfFloats.f16ToFloat((short) bits))
            : HalfFloats.f16ToFloat((short) (bits + 1));
    }

    private static Method jdkMethod(final String name, final Class<?> parameter) {
        try {
            return Float.class.getMethod(name, parameter);
        } catch (final NoSuchMethodException e) {
            return null;
        }
    }

    private static Object invoke(final Method method, final Object argument) throws ReflectiveOperationException {
        try {
            return method.invoke(null, argument);
        } catch (final InvocationTargetException e) {
            throw new AssertionError(method + " failed", e.getCause());
        }
    }

    private static boolean isF16NaN(final short bits) {
        return (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0;
    }

    private static String hex(final int bits) {
        return String.format("0x%04X", bits & 0xFFFF);
    }
}
