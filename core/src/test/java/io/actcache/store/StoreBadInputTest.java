package io.actcache.store;

import io.actcache.CapacityExceededException;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.InvalidKeyException;
import io.actcache.InvalidShapeException;
import io.actcache.KeyNotFoundException;
import io.actcache.NotAStoreException;
import io.actcache.ShapeMismatchException;
import io.actcache.StoreLockedException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every bad input gets a specific exception naming the culprit, and leaves the store byte-for-byte unchanged.
 */
class StoreBadInputTest {
    @TempDir
    Path tmp;
    private Path dir;

    @BeforeEach
    void createStore() {
        dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            store.append("resid_out_3", TestData.random(DType.F32, Shape.of(4, 8, 16), 1));
            store.append("resid_out_4", TestData.random(DType.F32, Shape.of(4, 8, 16), 2));
            store.append("resid_mid_3", TestData.random(DType.F32, Shape.of(4, 8, 16), 3));
            store.append("input_ids", TestData.random(DType.I64, Shape.of(4, 8), 4));
        }
    }

    @Test
    void shouldRejectBadKeysNamingTheRule() throws IOException {
        final Tensor value = Tensor.ofFloats(Shape.of(1), 1f);
        expectUnchanged(store -> store.put(null, value), InvalidKeyException.class, "null");
        expectUnchanged(store -> store.append("", value), InvalidKeyException.class, "empty");
        expectUnchanged(store -> store.put("a".repeat(1025), value), InvalidKeyException.class, "1025");
        expectUnchanged(store -> store.put("é".repeat(513), value), InvalidKeyException.class, "1026 UTF-8 bytes");
        expectUnchanged(store -> store.put("bad\nkey", value), InvalidKeyException.class, "U+000A");
        expectUnchanged(store -> store.get("tab\tkey"), InvalidKeyException.class, "U+0009");
        expectUnchanged(store -> store.contains("\u0000epoch"), InvalidKeyException.class, "U+0000");
        try (ActivationStore store = ActivationStore.open(dir)) {
            store.put("a".repeat(1024), value);
            assertEquals(1f, store.get("a".repeat(1024)).getFloat(0));
        }
    }

    @Test
    void shouldRejectAnAppendOfAnotherDtypeOrTrailingShapeNamingKeyAndBothShapes() throws IOException {
        final ShapeMismatchException dtype = expectUnchanged(
            store -> store.append("resid_out_3", TestData.random(DType.F16, Shape.of(2, 8, 16), 5)),
            ShapeMismatchException.class, "'resid_out_3'");
        assertTrue(dtype.getMessage().contains("F32 [4, 8, 16]") && dtype.getMessage().contains("F16 [2, 8, 16]"),
            dtype.getMessage());
        final ShapeMismatchException trailing = expectUnchanged(
            store -> store.append("resid_out_3", TestData.random(DType.F32, Shape.of(2, 8, 17), 5)),
            ShapeMismatchException.class, "[2, 8, 17]");
        assertTrue(trailing.getMessage().contains("[4, 8, 16]"), trailing.getMessage());
        expectUnchanged(store -> store.append("resid_out_3", TestData.random(DType.F32, Shape.of(2, 8), 5)),
            ShapeMismatchException.class, "[2, 8]");
    }

    @Test
    void shouldRejectAMismatchInsideABatchLeavingTheStagedKeysUncommitted() throws IOException {
        expectUnchanged(store -> {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("resid_out_4", TestData.random(DType.F32, Shape.of(2, 8, 16), 6));
                batch.append("resid_out_3", TestData.random(DType.I32, Shape.of(2, 8, 16), 6));
                batch.commit();
            }
        }, ShapeMismatchException.class, "'resid_out_3'");
    }

    @Test
    void shouldNameUpToThreeClosestKeysOfAMissingKey() throws IOException {
        final KeyNotFoundException e =
            expectUnchanged(store -> store.get("resid_out_5"), KeyNotFoundException.class, "'resid_out_5'");
        assertTrue(e.getMessage().contains("[resid_out_3, resid_out_4, resid_mid_3]"), e.getMessage());
        expectUnchanged(store -> store.describe("nothing"), KeyNotFoundException.class, "'nothing'");
    }

    @Test
    void shouldRejectNegativeAndOverflowingShapes() {
        final InvalidShapeException negative = assertThrows(InvalidShapeException.class, () -> Shape.of(4, -1, 3));
        assertTrue(negative.getMessage().contains("[4, -1, 3]"), negative.getMessage());
        final InvalidShapeException overflow =
            assertThrows(InvalidShapeException.class, () -> Shape.of(1L << 40, 1L << 40));
        assertTrue(overflow.getMessage().contains("overflows"), overflow.getMessage());
        assertThrows(InvalidShapeException.class, () -> Shape.of(1L << 62).byteSize(DType.F64));
    }

    @Test
    void shouldRejectAnAppendWhoseDimZeroWouldOverflow() throws IOException {
        try (ActivationStore store = ActivationStore.open(dir)) {
            store.put("tiny", Tensor.allocate(DType.U8, Shape.of(1, 0)));
        }
        expectUnchanged(store -> {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("tiny", Tensor.allocate(DType.U8, Shape.of(Long.MAX_VALUE, 0)).view());
                batch.append("tiny", Tensor.allocate(DType.U8, Shape.of(1, 0)).view());
            }
        }, InvalidShapeException.class, "'tiny'");
    }

    @Test
    void shouldRefuseADirectoryThatIsNotAStore() throws IOException {
        final NotAStoreException missing =
            assertThrows(NotAStoreException.class, () -> ActivationStore.open(tmp.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope"), missing.getMessage());
        final Path plain = Files.createDirectories(tmp.resolve("plain"));
        Files.writeString(plain.resolve("notes.txt"), "hello");
        final NotAStoreException notStore = assertThrows(NotAStoreException.class, () -> ActivationStore.open(plain));
        assertTrue(notStore.getMessage().contains("actcache.properties"), notStore.getMessage());
        assertThrows(NotAStoreException.class, () -> ActivationStore.openReadOnly(plain));
        final io.actcache.ActCacheException notEmpty = assertThrows(io.actcache.ActCacheException.class,
            () -> ActivationStore.create(plain, StoreOptions.defaults()));
        assertTrue(notEmpty.getMessage().contains("not empty"), notEmpty.getMessage());
        assertEquals("hello", Files.readString(plain.resolve("notes.txt")));
        assertThrows(io.actcache.ActCacheException.class, () -> ActivationStore.create(dir, StoreOptions.defaults()));
    }

    @Test
    void shouldRefuseANewerFormatVersionQuotingBoth() throws IOException {
        final Path properties = dir.resolve(StoreFiles.PROPERTIES);
        Files.writeString(properties, Files.readString(properties).replace("format.version=1.0.0",
            "format.version=2.0.0"));
        final String before = DirectorySnapshot.of(dir);
        final FormatTooNewException e = assertThrows(FormatTooNewException.class, () -> ActivationStore.open(dir));
        assertTrue(e.getMessage().contains("2.0.0") && e.getMessage().contains("1.0.0"), e.getMessage());
        assertThrows(FormatTooNewException.class, () -> ActivationStore.openReadOnly(dir));
        assertEquals(before, DirectorySnapshot.of(dir));
    }

    @Test
    void shouldRefuseADamagedPropertiesFile() throws IOException {
        final Path properties = dir.resolve(StoreFiles.PROPERTIES);
        Files.writeString(properties, Files.readString(properties).replace("durability=FSYNC", "durability=SOMETIMES"));
        final String before = DirectorySnapshot.of(dir);
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> ActivationStore.open(dir));
        assertTrue(e.getMessage().contains(StoreFiles.PROPERTIES), e.getMessage());
        Files.writeString(properties, "format=actcache\n");
        assertThrows(CorruptFileException.class, () -> ActivationStore.open(dir));
        Files.write(properties, new byte[] {(byte) 0xff, '\\', 'u', 'z', 'z'});
        assertThrows(CorruptFileException.class, () -> ActivationStore.openReadOnly(dir));
        assertNotEquals(before, DirectorySnapshot.of(dir)); // we damaged it; the store itself changed nothing else
        assertTrue(Files.exists(dir.resolve(StoreFiles.INDEX)));
    }

    @Test
    void shouldRebuildADamagedIndexFromManifestAndJournal() throws IOException {
        final Path index = dir.resolve(StoreFiles.INDEX);
        try (var channel = java.nio.channels.FileChannel.open(index, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap("this is not a chronicle map header at all".repeat(20)
                .getBytes(StandardCharsets.US_ASCII)), 0);
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(4, store.size());
            assertTrue(store.get("resid_out_3").contentEquals(TestData.random(DType.F32, Shape.of(4, 8, 16), 1).view()));
        }
        Files.delete(index);
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertTrue(store.get("input_ids").contentEquals(TestData.random(DType.I64, Shape.of(4, 8), 4).view()));
        }
    }

    @Test
    void shouldRefuseASecondWriterNamingTheLockAndHolderPid() throws IOException {
        try (ActivationStore writer = ActivationStore.open(dir)) {
            final StoreLockedException e = assertThrows(StoreLockedException.class, () -> ActivationStore.open(dir));
            assertTrue(e.getMessage().contains(String.valueOf(ProcessHandle.current().pid())), e.getMessage());
            assertTrue(e.getMessage().contains("lock"), e.getMessage());
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                assertEquals(4, reader.size());
            }
            writer.append("resid_out_3", TestData.random(DType.F32, Shape.of(1, 8, 16), 9));
        }
        try (ActivationStore writer = ActivationStore.open(dir)) {
            assertEquals(Shape.of(5, 8, 16), writer.get("resid_out_3").shape());
        }
    }

    @Test
    void shouldRejectInvalidOptionsNamingTheSetting() {
        final IllegalArgumentException chunk = assertThrows(IllegalArgumentException.class,
            () -> StoreOptions.builder().chunkSize(100_000).build());
        assertTrue(chunk.getMessage().contains("chunkSize"), chunk.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.builder().maxMappedChunks(1).build());
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.builder().durability(null).build());
    }

    @Test
    void shouldRefuseACommitTooLargeForOneJournalRecordLeavingTheStoreUnchanged() throws IOException {
        // A reader takes a record over 256 MiB for damage, so the writer must not acknowledge one. 270 values of
        // 1,000,000 bytes (one string, shared) make a 270 MB record.
        final String value = "x".repeat(1_000_000);
        final CapacityExceededException e = expectUnchanged(store -> {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("resid_out_3", TestData.random(DType.F32, Shape.of(2, 8, 16), 5));
                for (int i = 0; i < 270; i++) {
                    batch.putMetadata("note_" + i, value);
                }
                batch.commit();
            }
        }, CapacityExceededException.class, "(1 keys, 270 metadata changes)");
        assertTrue(e.getMessage().contains("smaller batches"), e.getMessage());
        try (ActivationStore store = ActivationStore.open(dir)) {
            store.append("resid_out_3", TestData.random(DType.F32, Shape.of(2, 8, 16), 5));
            store.putMetadata(java.util.Map.of("note_0", value));
            assertEquals(Shape.of(6, 8, 16), store.describe("resid_out_3").shape());
            store.verify();
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertEquals(value, reader.metadata().get("note_0"));
        }
    }

    private <T extends Throwable> T expectUnchanged(final Consumer<ActivationStore> action, final Class<T> type,
        final String messagePart) throws IOException {
        final String before = DirectorySnapshot.of(dir);
        final T thrown;
        try (ActivationStore store = ActivationStore.open(dir)) {
            final long epoch = store.epoch();
            final Executable call = () -> action.accept(store);
            thrown = assertThrows(type, call);
            assertTrue(thrown.getMessage().contains(messagePart),
                "message should contain '" + messagePart + "': " + thrown.getMessage());
            assertEquals(epoch, store.epoch());
        }
        assertEquals(before, DirectorySnapshot.of(dir), "store files changed");
        return thrown;
    }
}
