package io.actcache.codec;

import java.nio.ByteBuffer;

/**
 * The byte shuffle of Blosc: of {@code n} elements of {@code w} bytes, writes byte 0 of every element, then byte 1
 * of every element, and so on. Floats of similar magnitude share their exponent bytes, and small integers have zero
 * high bytes: after the shuffle these form long runs. Bytes past the last whole element are copied unchanged.
 * Stateless; absolute indexing only (positions and limits of the buffers are not touched).
 */
public final class ByteShuffle {
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
        for (int b = 0; b < elementSize; b++) {
            final int out = b * elements;
            for (int e = 0; e < elements; e++) {
                dst.put(out + e, src.get(e * elementSize + b));
            }
        }
        copyTail(src, dst, elements * elementSize, length);
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
        for (int b = 0; b < elementSize; b++) {
            final int in = b * elements;
            for (int e = 0; e < elements; e++) {
                dst.put(e * elementSize + b, src.get(in + e));
            }
        }
        copyTail(src, dst, elements * elementSize, length);
    }

    private static void copyTail(final ByteBuffer src, final ByteBuffer dst, final int from, final int to) {
        for (int i = from; i < to; i++) {
            dst.put(i, src.get(i));
        }
    }
}
