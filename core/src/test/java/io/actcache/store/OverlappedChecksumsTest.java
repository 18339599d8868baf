package io.actcache.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writes with the checksum on the helper thread (pieces of 1 MiB and more) and inline (smaller), on real files. */
class OverlappedChecksumsTest {
    @TempDir
    Path dir;

    @Test
    void largeAndSmallViewsAreWrittenWholeAndChecksummedInOrder() throws IOException {
        for (final long elements : new long[] {3 * 1024 * 1024 / 4 + 5, 1000}) {
            final TensorView data = pattern(elements);
            final Path file = dir.resolve("data-" + elements);
            final CRC32C crc = new CRC32C();
            final AtomicBoolean helperUsed = new AtomicBoolean();
            try (OverlappedChecksums checksums = new OverlappedChecksums("test-checksum");
                 FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                checksums.write(data, (piece, offset) -> {
                    while (piece.hasRemaining()) {
                        offset += channel.write(piece, 7 + offset);
                    }
                }, piece -> {
                    helperUsed.compareAndSet(false, Thread.currentThread().getName().equals("test-checksum"));
                    crc.update(piece);
                });
            }
            final byte[] written = Files.readAllBytes(file);
            assertEquals(7 + data.byteSize(), written.length);
            final byte[] expected = new byte[(int) data.byteSize()];
            data.copyTo(ByteBuffer.wrap(expected));
            final byte[] body = java.util.Arrays.copyOfRange(written, 7, written.length);
            assertArrayEquals(expected, body);
            final CRC32C reference = new CRC32C();
            reference.update(expected);
            assertEquals(reference.getValue(), crc.getValue(), "CRC of every byte in order");
            assertEquals(data.byteSize() >= OverlappedChecksums.OVERLAP_MIN_BYTES, helperUsed.get(),
                "the helper thread checksums exactly the large pieces");
        }
    }

    @Test
    void aFailedWriteIsRethrownAfterTheChecksumFinished() {
        final TensorView data = pattern(2 * 1024 * 1024 / 4);
        final IOException failure = new IOException("disk full");
        final AtomicBoolean checksumDone = new AtomicBoolean();
        try (OverlappedChecksums checksums = new OverlappedChecksums("test-checksum")) {
            final IOException thrown = assertThrows(IOException.class, () -> checksums.write(data, (piece, offset) -> {
                throw failure;
            }, piece -> {
                new CRC32C().update(piece);
                checksumDone.set(true);
            }));
            assertSame(failure, thrown);
            assertTrue(checksumDone.get());
        }
    }

    @Test
    void storeAppendsOfLargeBatchesVerifyAfterReopen() {
        final Path storeDir = dir.resolve("store");
        try (ActivationStore store = ActivationStore.create(storeDir, StoreOptions.builder().build())) {
            for (int batch = 0; batch < 3; batch++) {
                store.append("blocks.0.hook_resid_post", Tensor.wrap(DType.F32, Shape.of(1024, 768),
                    copy(pattern(1024 * 768))));
            }
        }
        try (ActivationStore store = ActivationStore.open(storeDir)) {
            assertEquals(3L * 1024 * 768 * 4, store.verify());
            assertEquals(Shape.of(3072, 768), store.get("blocks.0.hook_resid_post").shape());
        }
    }

    private static TensorView pattern(final long elements) {
        final Tensor tensor = Tensor.allocate(DType.F32, Shape.of(elements));
        for (long i = 0; i < elements; i++) {
            tensor.setFloat(i, i * 0.5f - 3);
        }
        return tensor.view();
    }

    private static ByteBuffer copy(final TensorView view) {
        final ByteBuffer bytes = ByteBuffer.allocateDirect((int) view.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        view.copyTo(bytes);
        return bytes.flip();
    }
}
