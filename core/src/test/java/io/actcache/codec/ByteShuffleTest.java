package io.actcache.codec;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shuffle against its definition (byte {@code b} of element {@code e} lands at {@code b n + e}) for every
 * element width of our dtypes, lengths that are and are not whole groups of 8 elements or whole elements, and the
 * round trip through {@link ByteShuffle#unshuffle}.
 */
class ByteShuffleTest {
    @ParameterizedTest
    @CsvSource({"1,100", "2,64", "2,70", "2,71", "4,4096", "4,4100", "4,4103", "4,36", "4,4128", "8,800", "8,805",
        "4,3", "8,0"})
    void shouldPlaceEveryByteByItsDefinitionAndRoundTrip(final int width, final int length) {
        final byte[] bytes = new byte[length];
        new Random(length * 31L + width).nextBytes(bytes);
        final ByteBuffer src = ByteBuffer.allocateDirect(length).put(bytes).clear();
        final ByteBuffer shuffled = ByteBuffer.allocateDirect(length);
        ByteShuffle.shuffle(src, shuffled, length, width);
        final int elements = length / width;
        for (int e = 0; e < elements; e++) {
            for (int b = 0; b < width; b++) {
                assertEquals(bytes[e * width + b], shuffled.get(b * elements + e), "element " + e + " byte " + b);
            }
        }
        for (int i = elements * width; i < length; i++) {
            assertEquals(bytes[i], shuffled.get(i), "tail byte " + i);
        }
        final ByteBuffer back = ByteBuffer.allocateDirect(length);
        ByteShuffle.unshuffle(shuffled, back, length, width);
        for (int i = 0; i < length; i++) {
            assertEquals(bytes[i], back.get(i), "byte " + i);
        }
    }
}
