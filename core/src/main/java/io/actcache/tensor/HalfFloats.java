package io.actcache.tensor;

/**
 * Conversions between 16-bit floats (IEEE binary16 and bfloat16) and {@code float}. Java 17 has no
 * {@code Float.float16ToFloat}; these are exact for every input, including subnormals, infinities and NaN.
 */
public final class HalfFloats {
    private HalfFloats() {
    }

    /**
     * @param bits binary16 bit pattern in the low 16 bits.
     * @return the same value as a float (exact).
     */
    public static float f16ToFloat(final short bits) {
        final int h = bits & 0xFFFF;
        final int sign = (h & 0x8000) << 16;
        final int exponent = (h >>> 10) & 0x1F;
        final int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Subnormal or zero: mantissa * 2^-24, exact in float.
            final float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /**
     * @param value a float.
     * @return the nearest binary16 bit pattern, ties to even; overflow gives infinity, NaN stays NaN.
     */
    public static short floatToF16(final float value) {
        final int f = Float.floatToRawIntBits(value);
        final int sign = (f >>> 16) & 0x8000;
        final int exponent = (f >>> 23) & 0xFF;
        final int mantissa = f & 0x7F_FFFF;
        if (exponent == 0xFF) {
            return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
        }
        final int unbiased = exponent - 127;
        if (unbiased > 15) {
            return (short) (sign | 0x7C00);
        }
        if (unbiased >= -14) {
            int half = ((unbiased + 15) << 10) | (mantissa >>> 13);
            final int rest = mantissa & 0x1FFF;
            if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
                half++; // may carry into the exponent, which correctly rounds up to the next binade or infinity
            }
            return (short) (sign | half);
        }
        if (unbiased < -25) {
            return (short) sign;
        }
        // Subnormal result: shift the full significand (with its implicit bit) right, rounding to nearest even.
        final int significand = mantissa | 0x80_0000;
        final int shift = -unbiased - 14 + 13;
        int half = significand >>> shift;
        final int rest = significand & ((1 << shift) - 1);
        final int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
            half++;
        }
        return (short) (sign | half);
    }

    /**
     * @param bits bfloat16 bit pattern in the low 16 bits.
     * @return the same value as a float (exact).
     */
    public static float bf16ToFloat(final short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /**
     * @param value a float.
     * @return the nearest bfloat16 bit pattern, ties to even; NaN stays NaN.
     */
    public static short floatToBf16(final float value) {
        final int f = Float.floatToRawIntBits(value);
        if ((f & 0x7FFF_FFFF) > 0x7F80_0000) {
            return (short) ((f >>> 16) | 0x40);
        }
        final int rounding = 0x7FFF + ((f >>> 16) & 1);
        return (short) ((f + rounding) >>> 16);
    }
}
