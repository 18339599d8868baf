package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Block checksums: appends of every alignment keep them right, and {@code verify()} finds a flipped bit, a
 * truncated file or a damaged header, naming the file, key, block and offset.
 */
class VerifyTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path tmp;

    private ActivationStore storeWithUnalignedAppends(final Path dir) {
        final ActivationStore store = ActivationStore.create(dir,
            StoreOptions.builder().durability(Durability.PROCESS).checksumBlockSize(BLOCK).build());
        // 12-byte rows: appends start and end at every offset within a block, within and across commits.
        for (int commit = 0; commit < 20; commit++) {
            try (ActivationStore.Batch batch = store.batch()) {
                for (int i = 0; i < 100; i++) {
                    batch.append("dense", TestData.random(DType.F32, Shape.of(1 + i % 5, 3), commit * 100 + i));
                }
                batch.commit();
            }
        }
        try (ActivationStore.Batch batch = store.batch()) {
            for (int i = 1; i < 40; i++) {
                batch.appendToList("list", TestData.random(DType.I16, Shape.of(i, i % 3 + 1), i).view());
            }
            batch.commit();
        }
        store.put("scalar", Tensor.ofFloats(Shape.of(), 3f));
        return store;
    }

    @Test
    void shouldVerifyEveryByteAfterAppendsOfEveryAlignmentAndAfterReopen() {
        final Path dir = tmp.resolve("store");
        final long bytes;
        try (ActivationStore store = storeWithUnalignedAppends(dir)) {
            bytes = store.verify();
            assertEquals(store.bytesStored(), bytes);
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(bytes, store.verify());
            store.append("dense", TestData.random(DType.F32, Shape.of(1000, 3), 1));
            store.verify();
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            reader.verify();
        }
    }

    @Test
    void shouldNameFileKeyBlockAndOffsetOfAFlippedBit() throws IOException {
        final Path dir = tmp.resolve("store");
        final Path file;
        try (ActivationStore store = storeWithUnalignedAppends(dir)) {
            file = store.columnFile("dense");
        }
        flipBit(file, ActivationStore.HEADER_SIZE + BLOCK + 17);
        try (ActivationStore store = ActivationStore.open(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains("'dense'") && e.getMessage().contains("block 1")
                && e.getMessage().contains(file.toString()) && e.getMessage().contains("[8192, 12288)"), e.getMessage());
        }
    }

    @Test
    void shouldReportADamagedTailBlockATruncationAndAWrongHeader() throws IOException {
        final Path dir = tmp.resolve("store");
        final Path dense;
        final Path list;
        try (ActivationStore store = storeWithUnalignedAppends(dir)) {
            dense = store.columnFile("dense");
            list = store.columnFile("list");
        }
        flipBit(list, Files.size(list) - 1);
        try (ActivationStore store = ActivationStore.open(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains("'list'"), e.getMessage());
            // An append continues the damaged last block's CRC: it notices and refuses, store unchanged.
            final long epoch = store.epoch();
            try (ActivationStore.Batch batch = store.batch()) {
                final CorruptFileException append = assertThrows(CorruptFileException.class,
                    () -> batch.appendToList("list", TestData.random(DType.I16, Shape.of(2), 1).view()));
                assertTrue(append.getMessage().contains("before an append"), append.getMessage());
            }
            assertEquals(epoch, store.epoch());
        }
        flipBit(list, Files.size(list) - 1);
        try (FileChannel channel = FileChannel.open(dense, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 1);
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void shouldReportAnNpyHeaderThatDisagreesWithTheStore() throws IOException {
        final Path dir = tmp.resolve("store");
        final Path file;
        try (ActivationStore store = storeWithUnalignedAppends(dir)) {
            file = store.columnFile("scalar");
        }
        final String text = new String(Files.readAllBytes(file), 0, 120, java.nio.charset.StandardCharsets.ISO_8859_1);
        final int at = text.indexOf("'<f4'");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap("'<i4'".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), at);
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains("'scalar'") && e.getMessage().contains("I32"), e.getMessage());
        }
    }

    static void flipBit(final Path file, final long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x10)).rewind();
            channel.write(one, offset);
        }
    }
}
