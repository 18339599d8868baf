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
 * bottleneck of SHUFFLE_LZ4 reads.
 */
public final class ByteShuffle {
    private static final int GROUP = Long.BYTES;

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
            for (int b = 0; b < 4; b++) {
                final int low = b << 3;
                final int high = low + 32;
                out.putLong(b * elements + e, (a0 >>> low & 0xFFL) | (a0 >>> high & 0xFFL) << 8
                    | (a1 >>> low & 0xFFL) << 16 | (a1 >>> high & 0xFFL) << 24 | (a2 >>> low & 0xFFL) << 32
                    | (a2 >>> high & 0xFFL) << 40 | (a3 >>> low & 0xFFL) << 48 | (a3 >>> high & 0xFFL) << 56);
            }
        }
    }

    private static void shuffle2(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            final long a0 = in.getLong(2 * e);
            final long a1 = in.getLong(2 * e + 8);
            for (int b = 0; b < 2; b++) {
                final int s = b << 3;
                out.putLong(b * elements + e, (a0 >>> s & 0xFFL) | (a0 >>> s + 16 & 0xFFL) << 8
                    | (a0 >>> s + 32 & 0xFFL) << 16 | (a0 >>> s + 48 & 0xFFL) << 24 | (a1 >>> s & 0xFFL) << 32
                    | (a1 >>> s + 16 & 0xFFL) << 40 | (a1 >>> s + 32 & 0xFFL) << 48 | (a1 >>> s + 48 & 0xFFL) << 56);
            }
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
            // Output word j holds elements 4j..4j+3: byte 2k from plane 0, byte 2k+1 from plane 1.
            for (int j = 0; j < 2; j++) {
                long word = 0;
                for (int k = 0; k < 4; k++) {
                    final int shift = (4 * j + k) << 3;
                    word |= ((p0 >>> shift) & 0xFFL) << (16 * k) | ((p1 >>> shift) & 0xFFL) << (16 * k + 8);
                }
                out.putLong(2 * e + 8 * j, word);
            }
        }
    }

    private static void unshuffle4(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        for (int e = 0; e < grouped; e += GROUP) {
            final long p0 = in.getLong(e);
            final long p1 = in.getLong(elements + e);
            final long p2 = in.getLong(2 * elements + e);
            final long p3 = in.getLong(3 * elements + e);
            for (int k = 0; k < GROUP; k += 2) {
                out.putLong(4 * (e + k), element4(p0, p1, p2, p3, k) | element4(p0, p1, p2, p3, k + 1) << 32);
            }
        }
    }

    private static long element4(final long p0, final long p1, final long p2, final long p3, final int k) {
        final int shift = k << 3;
        return ((p0 >>> shift) & 0xFFL) | ((p1 >>> shift) & 0xFFL) << 8 | ((p2 >>> shift) & 0xFFL) << 16
            | ((p3 >>> shift) & 0xFFL) << 24;
    }

    private static void unshuffle8(final ByteBuffer in, final ByteBuffer out, final int elements, final int grouped) {
        final long[] planes = new long[8];
        for (int e = 0; e < grouped; e += GROUP) {
            for (int b = 0; b < 8; b++) {
                planes[b] = in.getLong(b * elements + e);
            }
            for (int k = 0; k < GROUP; k++) {
                final int shift = k << 3;
                long word = 0;
                for (int b = 0; b < 8; b++) {
                    word |= ((planes[b] >>> shift) & 0xFFL) << (b << 3);
                }
                out.putLong(8 * (e + k), word);
            }
        }
    }

    private static void copyTail(final ByteBuffer src, final ByteBuffer dst, final int from, final int to) {
        for (int i = from; i < to; i++) {
            dst.put(i, src.get(i));
        }
    }
}
