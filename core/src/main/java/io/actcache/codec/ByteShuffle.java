package io.actcache.codec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The byte shuffle of Blosc: of {@code n} elements of {@code w} bytes, writes byte 0 of every element, then byte 1
 * of every element, and so on. Floats of similar magnitude share their exponent bytes, and small integers have zero
 * high bytes: after the shuffle these form long runs. Bytes past the last whole group of 8 elements are moved one by
 * one, and bytes past the last whole element are copied unchanged. Stateless; absolute indexing only (positions,
 * limits and byte orders of the caller's buffers are not touched).
 *
 * <p>Design note: the loops move 8 elements at a time as one 64-bit word per byte plane, so every load and store
 * is 8 bytes wide; byte-at-a-time loops ran at about a third of LZ4's decompression speed and made the shuffle the
 * bottleneck of SHUFFLE_LZ4 reads. The words are transposed in registers with rounds of masked swaps: width 8 as
 * 8 x 8 byte matrices (three rounds), width 4 as the two 4 x 4 byte matrices in the halves of four words (two
 * rounds), width 2 by interleaving two planes' bytes or separating them (two rounds); a fraction of the shifts and
 * masks of a byte-by-byte gather (CodecBenchmark: 1.8-3.4x faster; for width 4, two rounds on four words instead
 * of an 8 x 8 transpose, whose third round only moved whole elements, made SHUFFLE_LZ4 F32 decompression another
 * 13-19 % faster and compression 14-18 %).
 */
public final class ByteShuffle {
    private static final int GROUP = Long.BYTES;
    private static final long LOW_HALF = 0xFFFF_FFFFL;
    private static final long HIGH_HALF = 0xFFFF_FFFF_0000_0000L;
    /** Bytes 0-1 of each 32-bit half: the block one 2 x 2 swap of a 4 x 4 byte transpose moves. */
    private static final long SWAP_SHORTS = 0x0000_FFFF_0000_FFFFL;
    /** Bytes 0, 2, 4, 6: the bytes one 1 x 1 swap moves. */
    private static final long SWAP_BYTES = 0x00FF_00FF_00FF_00FFL;

    private ByteShuffle() {
    }

    /**
     * @param src         {@code length} bytes from index 0.
     * @param dst         room for {@code length} bytes from index 0; not {@code src}.
     * @param length      bytes to shuffle.
     * @param elementSize bytes per element, 1 to 8 (1 copies).
     */
    public static void shuffle(final ByteBuffer src, final ByteBuffer dst, final int length, final int elementSize) {
        final int elements = length / elementSize;
        final ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final int grouped = elementSize == 1 ? 0 : elements / GROUP * GROUP;
        if (elementSize == 4) {
            shuffle4(in, out, elements, grouped);
        } else if (elementSize == 2) {
            shuffle2(in, out, elements, grouped);
        } else if (elementSize == 8) {
            transpose(Layout.ELEMENTS8_TO_PLANES, in, out, elements, grouped);
        } else {
            shuffleGeneric(in, out, elements, grouped, elementSize);
        }
        for (int b = 0; b < elementSize; b++) {
            for (int e = grouped; e < elements; e++) {
                out.put(b * elements + e, in.get(e * elementSize + b));
            }
        }
        copyTail(in, out, elements * elementSize, length);
    }

    private static void shuffle4(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            final long a0 = in.getLong(4 * e);
            final long a1 = in.getLong(4 * e + 8);
            final long a2 = in.getLong(4 * e + 16);
            final long a3 = in.getLong(4 * e + 24);
            // Row k: element e+k in its low half, e+4+k in its high half; transposing both halves' 4 x 4 bytes
            // leaves plane k of elements e..e+7 in row k.
            long x0 = a0 & LOW_HALF | a2 << 32;
            long x1 = a0 >>> 32 | a2 & HIGH_HALF;
            long x2 = a1 & LOW_HALF | a3 << 32;
            long x3 = a1 >>> 32 | a3 & HIGH_HALF;
            long t;
            t = (x0 >>> 16 ^ x2) & SWAP_SHORTS; x0 ^= t << 16; x2 ^= t;
            t = (x1 >>> 16 ^ x3) & SWAP_SHORTS; x1 ^= t << 16; x3 ^= t;
            t = (x0 >>> 8 ^ x1) & SWAP_BYTES; x0 ^= t << 8; x1 ^= t;
            t = (x2 >>> 8 ^ x3) & SWAP_BYTES; x2 ^= t << 8; x3 ^= t;
            out.putLong(e, x0);
            out.putLong(elements + e, x1);
            out.putLong(2 * elements + e, x2);
            out.putLong(3 * elements + e, x3);
        }
    }

    private static void shuffle2(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            // Each word: byte 0 of four elements in its low half, byte 1 in its high half.
            final long d0 = deinterleaveBytes(in.getLong(2 * e));
            final long d1 = deinterleaveBytes(in.getLong(2 * e + 8));
            out.putLong(e, d0 & LOW_HALF | d1 << 32);
            out.putLong(elements + e, d0 >>> 32 | d1 & HIGH_HALF);
        }
    }

    private static void shuffleGeneric(final ByteBuffer in, final ByteBuffer out, final int elements,
        final int grouped, final int elementSize) {
        for (int e = 0; e < grouped; e += GROUP) {
            final int base = e * elementSize;
            for (int b = 0; b < elementSize; b++) {
                long plane = 0;
                for (int k = 0; k < GROUP; k++) {
                    plane |= (in.get(base + k * elementSize + b) & 0xFFL) << (k << 3);
                }
                out.putLong(b * elements + e, plane);
            }
        }
    }

    /**
     * Undoes {@link #shuffle}.
     *
     * @param src         {@code length} shuffled bytes from index 0.
     * @param dst         room for {@code length} bytes from index 0; not {@code src}.
     * @param length      bytes.
     * @param elementSize bytes per element, as shuffled.
     */
    public static void unshuffle(final ByteBuffer src, final ByteBuffer dst, final int length, final int elementSize) {
        final int elements = length / elementSize;
        final ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        final int grouped = elements / GROUP * GROUP;
        switch (elementSize) {
            case 2 -> unshuffle2(in, out, elements, grouped);
            case 4 -> unshuffle4(in, out, elements, grouped);
            case 8 -> unshuffle8(in, out, elements, grouped);
            default -> {
                // Width 1 is a copy; other widths are not dtypes of ours: move bytes one by one.
                for (int b = 0; b < elementSize; b++) {
                    for (int e = 0; e < elements; e++) {
                        out.put(e * elementSize + b, in.get(b * elements + e));
                    }
                }
                copyTail(in, out, elements * elementSize, length);
                return;
            }
        }
        for (int b = 0; b < elementSize; b++) {
            for (int e = grouped; e < elements; e++) {
                out.put(e * elementSize + b, in.get(b * elements + e));
            }
        }
        copyTail(in, out, elements * elementSize, length);
    }

    private static void unshuffle2(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            final long p0 = in.getLong(e);
            final long p1 = in.getLong(elements + e);
            // Element k is byte k of plane 0 then byte k of plane 1: interleave the planes' bytes.
            out.putLong(2 * e, interleaveBytes(p0 & 0xFFFF_FFFFL | p1 << 32));
            out.putLong(2 * e + 8, interleaveBytes(p0 >>> 32 | p1 & 0xFFFF_FFFF_0000_0000L));
        }
    }

    private static void unshuffle4(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            long x0 = in.getLong(e);
            long x1 = in.getLong(elements + e);
            long x2 = in.getLong(2 * elements + e);
            long x3 = in.getLong(3 * elements + e);
            // Row k is plane k of elements e..e+7. Transposing the 4 x 4 bytes of each half leaves element e+k in
            // the low half of row k and element e+4+k in its high half.
            long t;
            t = (x0 >>> 16 ^ x2) & SWAP_SHORTS; x0 ^= t << 16; x2 ^= t;
            t = (x1 >>> 16 ^ x3) & SWAP_SHORTS; x1 ^= t << 16; x3 ^= t;
            t = (x0 >>> 8 ^ x1) & SWAP_BYTES; x0 ^= t << 8; x1 ^= t;
            t = (x2 >>> 8 ^ x3) & SWAP_BYTES; x2 ^= t << 8; x3 ^= t;
            final int at = 4 * e;
            out.putLong(at, x0 & LOW_HALF | x1 << 32);
            out.putLong(at + 8, x2 & LOW_HALF | x3 << 32);
            out.putLong(at + 16, x0 >>> 32 | x1 & HIGH_HALF);
            out.putLong(at + 24, x2 >>> 32 | x3 & HIGH_HALF);
        }
    }

    /** Bytes a0 a1 a2 a3 b0 b1 b2 b3 (low to high) to a0 b0 a1 b1 a2 b2 a3 b3: two rounds of swaps. */
    private static long interleaveBytes(final long x) {
        long t = (x ^ x >>> 16) & 0x0000_0000_FFFF_0000L;
        final long y = x ^ t ^ t << 16;
        t = (y ^ y >>> 8) & 0x0000_FF00_0000_FF00L;
        return y ^ t ^ t << 8;
    }

    /** Undoes {@link #interleaveBytes}: the same two swaps (each its own inverse) in the other order. */
    private static long deinterleaveBytes(final long x) {
        long t = (x ^ x >>> 8) & 0x0000_FF00_0000_FF00L;
        final long y = x ^ t ^ t << 8;
        t = (y ^ y >>> 16) & 0x0000_0000_FFFF_0000L;
        return y ^ t ^ t << 16;
    }

    private static void unshuffle8(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        transpose(Layout.PLANES8_TO_ELEMENTS, in, out, elements, grouped);
    }

    /** Which 8 words of 8 bytes one transpose reads and where it writes them. */
    private enum Layout {
        /** Rows: elements {@code e..e+7} of 8 bytes; columns: their byte planes. */
        ELEMENTS8_TO_PLANES,
        /** Rows: planes 0-7 at {@code e}; columns: elements {@code e..e+7} of 8 bytes. */
        PLANES8_TO_ELEMENTS
    }

    /**
     * Moves {@code count} elements of 8 bytes (a multiple of 8) as 8 x 8 byte matrices,
     * each transposed in three rounds of block swaps (4 x 4, 2 x 2, 1 x 1 bytes) on words held in registers.
     */
    private static void transpose(final Layout layout, final ByteBuffer in, final ByteBuffer out, final int elements,
        final int count) {
        for (int e = 0; e < count; e += GROUP) {
            long x0 = in.getLong(rowOffset(layout, 0, e, elements));
            long x1 = in.getLong(rowOffset(layout, 1, e, elements));
            long x2 = in.getLong(rowOffset(layout, 2, e, elements));
            long x3 = in.getLong(rowOffset(layout, 3, e, elements));
            long x4 = in.getLong(rowOffset(layout, 4, e, elements));
            long x5 = in.getLong(rowOffset(layout, 5, e, elements));
            long x6 = in.getLong(rowOffset(layout, 6, e, elements));
            long x7 = in.getLong(rowOffset(layout, 7, e, elements));
            long t;
            // Rows 0-3, columns 4-7 (high halves) swap with rows 4-7, columns 0-3 (low halves); then 2 x 2, 1 x 1.
            t = (x0 >>> 32 ^ x4) & LOW_HALF; x0 ^= t << 32; x4 ^= t;
            t = (x1 >>> 32 ^ x5) & LOW_HALF; x1 ^= t << 32; x5 ^= t;
            t = (x2 >>> 32 ^ x6) & LOW_HALF; x2 ^= t << 32; x6 ^= t;
            t = (x3 >>> 32 ^ x7) & LOW_HALF; x3 ^= t << 32; x7 ^= t;
            t = (x0 >>> 16 ^ x2) & SWAP_SHORTS; x0 ^= t << 16; x2 ^= t;
            t = (x1 >>> 16 ^ x3) & SWAP_SHORTS; x1 ^= t << 16; x3 ^= t;
            t = (x4 >>> 16 ^ x6) & SWAP_SHORTS; x4 ^= t << 16; x6 ^= t;
            t = (x5 >>> 16 ^ x7) & SWAP_SHORTS; x5 ^= t << 16; x7 ^= t;
            t = (x0 >>> 8 ^ x1) & SWAP_BYTES; x0 ^= t << 8; x1 ^= t;
            t = (x2 >>> 8 ^ x3) & SWAP_BYTES; x2 ^= t << 8; x3 ^= t;
            t = (x4 >>> 8 ^ x5) & SWAP_BYTES; x4 ^= t << 8; x5 ^= t;
            t = (x6 >>> 8 ^ x7) & SWAP_BYTES; x6 ^= t << 8; x7 ^= t;
            switch (layout) {
                case ELEMENTS8_TO_PLANES -> {
                    out.putLong(e, x0);
                    out.putLong(elements + e, x1);
                    out.putLong(2 * elements + e, x2);
                    out.putLong(3 * elements + e, x3);
                    out.putLong(4 * elements + e, x4);
                    out.putLong(5 * elements + e, x5);
                    out.putLong(6 * elements + e, x6);
                    out.putLong(7 * elements + e, x7);
                }
                case PLANES8_TO_ELEMENTS -> {
                    final int at = 8 * e;
                    out.putLong(at, x0);
                    out.putLong(at + 8, x1);
                    out.putLong(at + 16, x2);
                    out.putLong(at + 24, x3);
                    out.putLong(at + 32, x4);
                    out.putLong(at + 40, x5);
                    out.putLong(at + 48, x6);
                    out.putLong(at + 56, x7);
                }
                default -> throw new AssertionError(layout);
            }
        }
    }

    private static int rowOffset(final Layout layout, final int row, final int e, final int elements) {
        return switch (layout) {
            case ELEMENTS8_TO_PLANES -> 8 * (e + row);
            case PLANES8_TO_ELEMENTS -> row * elements + e;
        };
    }

    private static void copyTail(final ByteBuffer src, final ByteBuffer dst, final int from, final int to) {
        for (int i = from; i < to; i++) {
            dst.put(i, src.get(i));
        }
    }
}
