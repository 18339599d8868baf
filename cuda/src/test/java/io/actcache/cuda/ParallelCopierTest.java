package io.actcache.cuda;

import org.agrona.IoUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelCopierTest {
    @Test
    void shouldCopyAMappedFileIntoADirectBufferWithSeveralThreads(@TempDir final Path dir) throws IOException {
        final int length = (37 << 20) + 13; // not a multiple of the thread count
        final byte[] content = random(length, 1);
        final Path file = dir.resolve("column.bin");
        Files.write(file, content);
        try (ParallelCopier copier = new ParallelCopier(4);
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            final MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, length);
            try {
                copyAndCheck(copier, mapped, content, length);
            } finally {
                IoUtil.unmap(mapped);
            }
        }
    }

    private static void copyAndCheck(final ParallelCopier copier, final MappedByteBuffer mapped, final byte[] content,
        final int length) {
        final ByteBuffer source = mapped.position(5).limit(length - 3);
        final ByteBuffer target = ByteBuffer.allocateDirect(length + 100).position(7);
        copier.copy(source, target);
        assertEquals(7 + length - 8, target.position(), "the target advanced by the bytes copied");
        assertEquals(5, source.position(), "the source is left where it was");
        for (int i = 0; i < length - 8; i++) {
            if (target.get(7 + i) != content[5 + i]) {
                throw new AssertionError("byte " + i + " differs");
            }
        }
    }

    @Test
    void shouldFinishEveryPartBeforeReturningEvenWhenInterrupted() {
        // An interrupted caller used to return at its first wait while workers still wrote into the destination,
        // which the caller then refills or frees (pinned memory): wrong uploads, or a crash.
        final int length = 16 << 20;
        final byte[] content = random(length, 3);
        try (ParallelCopier copier = new ParallelCopier(4)) {
            final ByteBuffer target = ByteBuffer.allocateDirect(length);
            Thread.currentThread().interrupt();
            try {
                copier.copy(ByteBuffer.wrap(content), target);
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
            } finally {
                Thread.interrupted();
            }
            assertEquals(length, target.position());
            assertEquals(ByteBuffer.wrap(content), target.flip(), "every part was written before copy returned");
        }
    }

    @Test
    void shouldCopySmallBuffersOnTheCallersThread() {
        try (ParallelCopier copier = new ParallelCopier(8)) {
            final byte[] content = random(1000, 2);
            final ByteBuffer target = ByteBuffer.allocate(1000);
            copier.copy(ByteBuffer.wrap(content), target);
            assertEquals(ByteBuffer.wrap(content), target.flip());
        }
    }

    @Test
    void shouldRefuseADestinationTooSmallNamingBothSizes() {
        try (ParallelCopier copier = new ParallelCopier(2)) {
            final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> copier.copy(ByteBuffer.allocate(ParallelCopier.PARALLEL_MIN_BYTES),
                    ByteBuffer.allocateDirect(100)));
            assertEquals("destination has 100 bytes left, needs " + ParallelCopier.PARALLEL_MIN_BYTES, e.getMessage());
        }
    }

    @Test
    void shouldRejectFewerThanOneThread() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ParallelCopier(0));
        assertEquals("a parallel copy needs at least 1 thread, got 0", e.getMessage());
    }

    @Test
    void shouldStopItsThreadsOnCloseAndStartNewOnesWhenUsedAgain() {
        final ParallelCopier copier = new ParallelCopier(3);
        final byte[] content = random(ParallelCopier.PARALLEL_MIN_BYTES * 2, 3);
        copier.copy(ByteBuffer.wrap(content), ByteBuffer.allocateDirect(content.length));
        copier.close();
        copier.close();
        final ByteBuffer again = ByteBuffer.allocateDirect(content.length);
        copier.copy(ByteBuffer.wrap(content), again);
        assertEquals(ByteBuffer.wrap(content), again.flip());
        copier.close();
    }

    private static byte[] random(final int length, final long seed) {
        final byte[] bytes = new byte[length];
        final SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) random.nextInt();
        }
        return bytes;
    }
}
