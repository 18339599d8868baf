package io.actcache.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cold-read helpers the read baselines rely on, on real files under {@code java.io.tmpdir} (a disk file
 * system: tmpfs refuses {@code O_DIRECT}).
 */
class PageCacheTest {
    private static final int BUFFER = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void shouldReadEveryByteOfAFileOfOddLengthWithODirect() throws IOException {
        assertReadsWhole(PageCache.O_DIRECT);
    }

    @Test
    void shouldReadEveryByteOfAFileOfOddLengthThroughThePageCache() throws IOException {
        assertReadsWhole(PageCache.DROP_CACHES);
    }

    private void assertReadsWhole(final String method) throws IOException {
        final byte[] data = new byte[3 * BUFFER + 12_345];
        new Random(9).nextBytes(data);
        final Path file = Files.write(dir.resolve("data.bin"), data);
        final ByteBuffer buffer = PageCache.alignedBuffer(BUFFER);
        PageCache.prepare(method.equals(PageCache.DROP_CACHES) && !canDrop() ? PageCache.O_DIRECT : method);
        try (FileChannel channel = PageCache.openForRead(file, method)) {
            assertEquals(data.length, PageCache.readAll(channel, buffer, file));
        }
        // The last request read the tail into the start of the buffer.
        final byte[] tail = new byte[data.length % BUFFER];
        buffer.flip().get(tail);
        assertArrayEquals(Arrays.copyOfRange(data, data.length - tail.length, data.length), tail);
    }

    @Test
    void shouldAlignBuffersForODirect() {
        final ByteBuffer buffer = PageCache.alignedBuffer(2 * PageCache.ALIGNMENT);
        assertEquals(2 * PageCache.ALIGNMENT, buffer.capacity());
        assertTrue(buffer.isDirect());
        assertEquals(0, buffer.alignmentOffset(0, PageCache.ALIGNMENT));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PageCache.alignedBuffer(PageCache.ALIGNMENT + 1));
        assertTrue(e.getMessage().contains(String.valueOf(PageCache.ALIGNMENT + 1)), e.getMessage());
    }

    @Test
    void shouldRefuseAnUnknownColdReadMethodByName() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> PageCache.prepare("fadvise"));
        assertTrue(e.getMessage().contains("fadvise"), e.getMessage());
    }

    @Test
    void shouldSayWhichColdReadMethodThisProcessCanUse() {
        assertEquals(canDrop() ? PageCache.DROP_CACHES : PageCache.O_DIRECT, PageCache.coldReadMethod());
    }

    @Test
    void shouldNameTheFileWhenItCannotBeOpened() {
        final Path missing = dir.resolve("missing.bin");
        final UncheckedIOException e = assertThrows(UncheckedIOException.class,
            () -> PageCache.openForRead(missing, PageCache.O_DIRECT));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    private static boolean canDrop() {
        return Files.isWritable(Path.of("/proc/sys/vm/drop_caches"));
    }
}
