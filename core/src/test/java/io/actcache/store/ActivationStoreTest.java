package io.actcache.store;

import io.actcache.AlreadyClosedException;
import io.actcache.ShapeMismatchException;
import io.actcache.format.NpyHeader;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ActivationStoreTest {
    @TempDir
    Path tmp;

    private static StoreOptions fast() {
        return StoreOptions.builder().durability(Durability.PROCESS).build();
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void shouldAppendAlongDimZeroAndReadBackAfterReopen(final DType dtype) {
        final Path dir = tmp.resolve("store");
        final Tensor first = TestData.random(dtype, Shape.of(3, 5, 7), 1);
        final Tensor second = TestData.random(dtype, Shape.of(2, 5, 7), 2);
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.append("resid_out_3", first);
            store.append("resid_out_3", second);
            assertColumn(store.get("resid_out_3"), first, second);
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertColumn(store.get("resid_out_3"), first, second);
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertColumn(reader.get("resid_out_3"), first, second);
        }
    }

    @Test
    void shouldWriteAValidPaddedNpyHeaderTrackingTheCommittedShape() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.append("k", TestData.random(DType.BF16, Shape.of(9, 4), 1));
            store.append("k", TestData.random(DType.BF16, Shape.of(991, 4), 2));
            final Path file = store.columnFile("k");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                final NpyHeader header = NpyHeader.read(channel, file.toString());
                assertEquals(Shape.of(1000, 4), header.shape());
                assertEquals(DType.BF16, header.dtype());
                assertEquals(4096, header.dataOffset());
                assertEquals(4096 + 1000 * 4 * 2, channel.size());
            }
        }
    }

    @Test
    void shouldReplaceWithPutUnderANewColumnIdAndDeleteTheOldFileAtCheckpoint() {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), fast())) {
            store.append("k", TestData.random(DType.F32, Shape.of(4, 4), 1));
            final Path oldFile = store.columnFile("k");
            final long oldId = store.describe("k").columnId();
            final Tensor replacement = TestData.random(DType.I64, Shape.of(2), 2);
            store.put("k", replacement);
            assertTrue(store.describe("k").columnId() > oldId);
            assertTrue(store.get("k").contentEquals(replacement.view()));
            assertTrue(Files.exists(oldFile), "old file stays until the checkpoint");
            store.checkpoint();
            assertFalse(Files.exists(oldFile));
        }
    }

    @Test
    void shouldNeverReuseColumnIdsAcrossRemoveAndReopen() {
        final Path dir = tmp.resolve("store");
        final long removedId;
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.append("a", TestData.random(DType.F32, Shape.of(1), 1));
            removedId = store.describe("a").columnId();
            assertTrue(store.remove("a"));
            assertFalse(store.remove("a"));
            assertFalse(store.contains("a"));
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            store.append("a", TestData.random(DType.F32, Shape.of(1), 1));
            assertTrue(store.describe("a").columnId() > removedId);
        }
    }

    @Test
    void shouldCommitABatchAtomicallyAndDiscardAnUncommittedOne() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.append("a", TestData.random(DType.F32, Shape.of(2, 3), 1));
            final long epoch = store.epoch();
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("a", TestData.random(DType.F32, Shape.of(5, 3), 2));
                batch.append("b", TestData.random(DType.F16, Shape.of(1), 3));
                assertEquals(Shape.of(2, 3), store.get("a").shape(), "staged data is invisible");
                assertFalse(store.contains("b"));
            }
            assertEquals(epoch, store.epoch());
            assertEquals(Shape.of(2, 3), store.get("a").shape());
            assertFalse(store.contains("b"));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("a", TestData.random(DType.F32, Shape.of(5, 3), 2));
                batch.append("a", TestData.random(DType.F32, Shape.of(1, 3), 4));
                batch.append("b", TestData.random(DType.F16, Shape.of(1), 3));
                batch.commit();
            }
            assertEquals(epoch + 1, store.epoch(), "one commit for the whole batch");
            assertEquals(Shape.of(8, 3), store.get("a").shape());
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(Shape.of(8, 3), store.get("a").shape());
            assertEquals(List.of("a", "b"), store.keys());
        }
    }

    @Test
    void shouldLeaveNoFileOfADiscardedNewColumn() throws IOException {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), fast())) {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.put("x", TestData.random(DType.F32, Shape.of(10), 1));
            }
            try (Stream<Path> files = Files.list(tmp.resolve("store").resolve(StoreFiles.COLUMNS))) {
                assertEquals(0, files.count());
            }
        }
    }

    @Test
    void shouldServeViewsSpanningManyChunksUnderASmallMappingBound() {
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE)
            .chunkSize(StoreOptions.MIN_CHUNK_SIZE).maxMappedChunks(3).build();
        final Tensor data = TestData.random(DType.F32, Shape.of(64, 1024), 7);
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), options)) {
            store.append("k", data);
            final TensorView view = store.get("k");
            final TensorView expected = data.view();
            for (long i = 0; i < view.elementCount(); i += 997) {
                assertEquals(Float.floatToRawIntBits(expected.getFloat(i)), Float.floatToRawIntBits(view.getFloat(i)));
            }
            assertTrue(view.contentEquals(expected));
            assertEquals(expected.crc32c(), view.crc32c());
            final float[] rows = new float[3 * 1024];
            view.rows(30, 33).copyTo(0, rows, 0, rows.length);
            for (int i = 0; i < rows.length; i++) {
                assertEquals(expected.getFloat(30 * 1024 + i), rows[i]);
            }
            assertTrue(store.mappedChunks() <= 3, "mappings " + store.mappedChunks());
            assertTrue(store.bytesMapped() <= 3 * StoreOptions.MIN_CHUNK_SIZE);
        }
    }

    @Test
    void shouldReportBytesStoredOnDiskAndMapped() {
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), fast())) {
            store.append("a", TestData.random(DType.F32, Shape.of(256, 256), 1));
            store.append("b", TestData.random(DType.I8, Shape.of(1000), 2));
            assertEquals(256 * 256 * 4 + 1000, store.bytesStored());
            assertTrue(store.bytesOnDisk() >= store.bytesStored() + 2 * ActivationStore.HEADER_SIZE);
            assertEquals(0, store.bytesMapped());
            store.get("a").crc32c();
            assertEquals(4096 + 256 * 256 * 4, store.bytesMapped());
            assertTrue(store.bytesWritten() >= store.bytesStored());
        }
    }

    @Test
    void shouldShowReadersNewCommitsOnlyAfterRefresh() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore writer = ActivationStore.create(dir, fast())) {
            writer.append("a", TestData.random(DType.F32, Shape.of(1, 2), 1));
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                final TensorView before = reader.get("a");
                writer.append("a", TestData.random(DType.F32, Shape.of(3, 2), 2));
                writer.append("c", TestData.random(DType.F32, Shape.of(3, 2), 2));
                assertEquals(Shape.of(1, 2), reader.get("a").shape());
                assertTrue(reader.refresh());
                assertEquals(Shape.of(4, 2), reader.get("a").shape());
                assertTrue(reader.contains("c"));
                assertEquals(Shape.of(1, 2), before.shape(), "an earlier view is unchanged");
                writer.checkpoint();
                writer.append("d", TestData.random(DType.F32, Shape.of(3, 2), 2));
                assertTrue(reader.refresh(), "a new journal generation is followed");
                assertEquals(List.of("a", "c", "d"), reader.keys());
                assertFalse(reader.refresh());
            }
        }
    }

    @Test
    void shouldNotModifyAnyFileWhenOpenedReadOnly() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore writer = ActivationStore.create(dir, fast())) {
            writer.append("a", TestData.random(DType.F32, Shape.of(8, 2), 1));
        }
        final String before = DirectorySnapshot.of(dir);
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            reader.get("a").crc32c();
            reader.refresh();
            assertThrows(io.actcache.ActCacheException.class,
                () -> reader.append("a", TestData.random(DType.F32, Shape.of(1, 2), 1)));
        }
        assertEquals(before, DirectorySnapshot.of(dir));
    }

    @Test
    void shouldDeleteAnInMemoryStoreOnCloseAndSweepStaleOnes() throws IOException {
        final Path root = Path.of(System.getProperty("java.io.tmpdir"), "actcache-inmemory");
        Files.createDirectories(root);
        final Path stale = root.resolve(deadPid() + "-1-dead");
        Files.createDirectories(stale.resolve("columns"));
        final Path dir;
        try (ActivationStore store = ActivationStore.inMemory()) {
            dir = store.directory();
            assertEquals(Durability.NONE, store.durability());
            store.append("a", TestData.random(DType.F32, Shape.of(8, 2), 1));
            assertTrue(Files.isDirectory(dir));
            assertFalse(Files.exists(stale), "a dead process's directory is swept");
        }
        assertFalse(Files.exists(dir));
    }

    @Test
    void shouldRejectEveryCallAfterCloseIncludingViewReads() {
        final ActivationStore store = ActivationStore.create(tmp.resolve("store"), fast());
        store.append("a", TestData.random(DType.F32, Shape.of(8, 2), 1));
        final TensorView view = store.get("a");
        view.getFloat(0);
        store.close();
        store.close();
        assertThrows(AlreadyClosedException.class, () -> store.get("a"));
        assertThrows(AlreadyClosedException.class, () -> store.append("a", Tensor.ofFloats(Shape.of(1, 2), 1, 2)));
        assertThrows(AlreadyClosedException.class, store::keys);
        final AlreadyClosedException e = assertThrows(AlreadyClosedException.class, () -> view.getFloat(1));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }

    @Test
    void shouldGrowTheIndexPastItsExpectedKeys() {
        final Path dir = tmp.resolve("store");
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE).expectedKeys(16).build();
        try (ActivationStore store = ActivationStore.create(dir, options)) {
            for (int i = 0; i < 300; i++) {
                store.put("key_" + i, Tensor.ofFloats(Shape.of(1), i));
            }
            assertEquals(300, store.size());
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(299f, store.get("key_299").getFloat(0));
        }
    }

    @Test
    void shouldAppendAViewOfAnotherStore() {
        final Tensor data = TestData.random(DType.F16, Shape.of(100, 10), 3);
        try (ActivationStore source = ActivationStore.inMemory(); ActivationStore target = ActivationStore.inMemory()) {
            source.append("k", data);
            target.append("k", source.get("k").rows(10, 20));
            target.append("k", source.get("k").rows(0, 10));
            assertTrue(target.get("k").rows(0, 10).contentEquals(data.view().rows(10, 20)));
            assertTrue(target.get("k").rows(10, 20).contentEquals(data.view().rows(0, 10)));
        }
    }

    @Test
    void shouldRejectAnAppendOfAScalar() {
        try (ActivationStore store = ActivationStore.inMemory()) {
            final ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> store.append("s", Tensor.ofFloats(Shape.of(), 1f)));
            assertTrue(e.getMessage().contains("'s'"));
            store.put("s", Tensor.ofFloats(Shape.of(), 1f));
            assertEquals(Shape.of(), store.get("s").shape());
            assertEquals(1f, store.get("s").getFloat(0));
        }
    }

    @Test
    void shouldPersistMetadataThroughJournalCheckpointAndReaders() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.putMetadata(java.util.Map.of("model_name", "gpt2", "n_layers", "12"));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.putMetadata("n_heads", "12").removeMetadata("model_name").putMetadata("d_model", "768");
                batch.append("k", TestData.random(DType.F32, Shape.of(1, 2), 1));
                batch.commit();
            }
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                assertEquals(java.util.Map.of("n_layers", "12", "n_heads", "12", "d_model", "768"), reader.metadata());
            }
            final IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> store.putMetadata(java.util.Map.of("big", "x".repeat(ActivationStore.MAX_METADATA_VALUE_BYTES + 1))));
            assertTrue(tooLong.getMessage().contains("'big'"), tooLong.getMessage());
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals("768", store.metadata().get("d_model"));
            assertFalse(store.metadata().containsKey("model_name"));
            store.putMetadata(java.util.Map.of("model_name", "gpt2-small"));
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertEquals("gpt2-small", reader.metadata().get("model_name"));
            assertEquals(4, reader.metadata().size());
        }
    }

    @Test
    void shouldKeepRaggedTensorsInAListColumnAcrossReopen() {
        final Path dir = tmp.resolve("store");
        final Tensor[] items = {
            TestData.random(DType.F32, Shape.of(1, 12, 5, 5), 1), TestData.random(DType.F32, Shape.of(1, 12, 7, 7), 2),
            TestData.random(DType.F32, Shape.of(3), 3), TestData.random(DType.F32, Shape.of(), 4)};
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("pattern_L0H0", items[0].view()).appendToList("pattern_L0H0", items[1].view());
                batch.commit();
            }
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("pattern_L0H0", items[2].view()).appendToList("pattern_L0H0", items[3].view());
            }
            assertEquals(Shape.of(2), store.describe("pattern_L0H0").shape(), "the discarded batch left nothing");
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("pattern_L0H0", items[2].view()).appendToList("pattern_L0H0", items[3].view());
                batch.commit();
            }
            assertEquals(ColumnKind.LIST, store.describe("pattern_L0H0").kind());
            final ShapeMismatchException dense = assertThrows(ShapeMismatchException.class,
                () -> store.get("pattern_L0H0"));
            assertTrue(dense.getMessage().contains("getList"), dense.getMessage());
            final ShapeMismatchException dtype = assertThrows(ShapeMismatchException.class, () -> store.batch()
                .appendToList("pattern_L0H0", TestData.random(DType.F16, Shape.of(2), 5).view()));
            assertTrue(dtype.getMessage().contains("F16 [2]"), dtype.getMessage());
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertList(store.getList("pattern_L0H0"), items);
            store.append("dense", TestData.random(DType.F32, Shape.of(2), 6));
            assertThrows(ShapeMismatchException.class, () -> store.getList("dense"));
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertList(reader.getList("pattern_L0H0"), items);
        }
    }

    @Test
    void shouldCommitAnEmptyListItemAfterOneWhoseEndIsNotAligned() {
        // Items start 8-byte aligned; the padding is committed as zeros. It was only counted, never written, so an
        // empty item after a 12-byte one left the file 4 bytes short of its committed end and the list unreadable.
        final Path dir = tmp.resolve("store");
        final Tensor[] items = {TestData.random(DType.F32, Shape.of(3), 1), Tensor.allocate(DType.F32, Shape.of(0)),
            TestData.random(DType.F32, Shape.of(0, 4), 2), TestData.random(DType.F32, Shape.of(5), 3)};
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            for (final Tensor item : items) {
                store.batch().appendToList("pattern_L0H0", item.view()).commit();
                store.verify();
            }
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertList(store.getList("pattern_L0H0"), items);
            assertEquals(4 * 3 + 4 + 4 * 5, store.verify());
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertList(reader.getList("pattern_L0H0"), items);
        }
    }

    @Test
    void shouldOverwriteBytesAFailedAppendLeftPastAListsCommittedEnd() throws IOException {
        // A failed append can leave bytes past the committed end; the next append must not seal them into the
        // checksums as if they were the zero padding before its item.
        final Path dir = tmp.resolve("store");
        final Tensor[] items = {TestData.random(DType.F32, Shape.of(3), 1), TestData.random(DType.F32, Shape.of(1), 2),
            TestData.random(DType.F32, Shape.of(1), 3)};
        try (ActivationStore store = ActivationStore.create(dir, fast())) {
            store.batch().appendToList("pattern_L0H0", items[0].view()).commit();
            final Path list = dir.resolve(StoreFiles.COLUMNS)
                .resolve(store.describe("pattern_L0H0").columnId() + StoreFiles.LIST_EXTENSION);
            try (FileChannel channel = FileChannel.open(list, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                    18, 19, 20}), channel.size());
            }
            store.batch().appendToList("pattern_L0H0", items[1].view()).commit();
            store.batch().appendToList("pattern_L0H0", items[2].view()).commit();
            assertList(store.getList("pattern_L0H0"), items);
            store.verify();
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertList(store.getList("pattern_L0H0"), items);
            store.verify();
        }
    }

    @Test
    void shouldCompareViewsWhoseChunksEvictEachOtherWithoutTouchingUnmappedMemory() {
        // contentEquals held this view's chunk while fetching the other's; with both in one bounded mapping cache
        // the fetch unmapped the held chunk, and the comparison read unmapped memory: a SIGSEGV of the whole JVM.
        final Tensor same = TestData.random(DType.F32, Shape.of(64, 16), 1);
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"),
            StoreOptions.builder().maxMappedChunks(2).build())) {
            store.put("a", same);
            store.put("b", same);
            store.put("c", TestData.random(DType.F32, Shape.of(64, 16), 2));
            final TensorView a = store.get("a");
            a.getFloat(0);
            store.get("c").getFloat(0);
            assertTrue(a.contentEquals(store.get("b")));
            assertFalse(store.get("c").contentEquals(a));
            assertTrue(a.contentEquals(a));
        }
    }

    @Test
    void shouldUnmapTheFilesARefreshAcrossACheckpointDropped() throws IOException {
        // A refresh that crossed a checkpoint kept the replaced key's deleted file mapped (its disk space held)
        // until the mapping cache happened to evict it.
        final Path dir = tmp.resolve("store");
        try (ActivationStore writer = ActivationStore.create(dir, fast())) {
            writer.put("a", Tensor.ofFloats(Shape.of(1), 1f));
            writer.checkpoint();
            final ActivationStore reader = ActivationStore.openReadOnly(dir);
            final Path old = dir.resolve(StoreFiles.COLUMNS).resolve(writer.describe("a").columnId()
                + StoreFiles.NPY_EXTENSION);
            assertEquals(1f, reader.get("a").getFloat(0));
            writer.put("a", Tensor.ofFloats(Shape.of(1), 2f));
            writer.checkpoint();
            assertFalse(Files.exists(old), "the checkpoint deleted the replaced file");
            reader.refresh();
            assertEquals(2f, reader.get("a").getFloat(0));
            try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
                assertTrue(maps.noneMatch(line -> line.contains(old.toString())), "the old file is unmapped");
            } finally {
                reader.close();
            }
        }
    }

    @Test
    void shouldStopTheWriterWhenUpdatingAfterACommitFailsAndRecoverTheCommitOnReopen() {
        // After the journal append (the commit point) the NPY headers and the index are updated. A failure there
        // used to leave the writer an epoch behind its journal: its next commit reused the epoch, and a clean close
        // checkpointed without the record. Here reopening the first key's file for its header rewrite fails.
        final Path dir = tmp.resolve("store");
        final boolean[] failing = {false};
        final DelegatingFileLayer layer = new DelegatingFileLayer() {
            @Override
            public java.nio.channels.FileChannel open(final Path file, final java.nio.file.OpenOption... options)
                throws IOException {
                if (failing[0] && file.getFileName().toString().endsWith(StoreFiles.NPY_EXTENSION)) {
                    throw new IOException("Too many open files (injected)");
                }
                return super.open(file, options);
            }
        };
        final ActivationStore store = ActivationStore.create(dir, StoreOptions.builder().durability(Durability.PROCESS)
            .maxOpenFiles(2).fileLayer(layer).build());
        try (ActivationStore.Batch batch = store.batch()) {
            for (int key = 0; key < 3; key++) {
                batch.put("k" + key, Tensor.ofFloats(Shape.of(1), key));
            }
            failing[0] = true; // the first key's channel was evicted by the other two: its header rewrite reopens it
            final io.actcache.ActCacheException broken = assertThrows(io.actcache.ActCacheException.class,
                batch::commit);
            assertTrue(broken.getMessage().contains("epoch 1 is committed"), broken.getMessage());
        }
        final io.actcache.ActCacheException refused = assertThrows(io.actcache.ActCacheException.class,
            () -> store.put("k9", Tensor.ofFloats(Shape.of(1), 9f)));
        assertTrue(refused.getMessage().contains("close and reopen"), refused.getMessage());
        store.close();
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            assertEquals(1, reopened.epoch(), "the committed record was replayed");
            for (int key = 0; key < 3; key++) {
                assertEquals(key, reopened.get("k" + key).getFloat(0), 0f, "k" + key);
            }
            reopened.put("k9", Tensor.ofFloats(Shape.of(1), 9f));
            assertEquals(2, reopened.epoch());
        }
    }

    private static void assertList(final List<TensorView> views, final Tensor[] items) {
        assertEquals(items.length, views.size());
        for (int i = 0; i < items.length; i++) {
            assertTrue(views.get(i).contentEquals(items[i].view()), "item " + i + ": " + views.get(i));
        }
    }

    static void assertColumn(final TensorView column, final Tensor first, final Tensor second) {
        final long rows = first.shape().dim(0) + second.shape().dim(0);
        assertEquals(first.shape().withDim0(rows), column.shape());
        assertEquals(first.dtype(), column.dtype());
        assertTrue(column.rows(0, first.shape().dim(0)).contentEquals(first.view()));
        assertTrue(column.rows(first.shape().dim(0), rows).contentEquals(second.view()));
        final ByteBuffer all = ByteBuffer.allocate((int) column.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        column.copyTo(all);
        all.flip();
        assertEquals(first.buffer(), all.slice(0, (int) first.byteSize()));
    }

    private static long deadPid() {
        long pid = 4_000_000;
        while (ProcessHandle.of(pid).isPresent()) {
            pid++;
        }
        return pid;
    }
}
