package io.actcache.store;

import io.actcache.ActCacheException;
import io.actcache.CorruptFileException;
import io.actcache.StaleColumnException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ActivationStore#compact(CompactOptions)} on real files: what it deletes and trims is measured on the
 * directory, every value is compared byte for byte, and a second JVM reopens the result.
 */
class CompactTest {
    private static final StoreOptions OPTIONS = StoreOptions.builder().durability(Durability.FSYNC)
        .checksumBlockSize(4096).build();

    @TempDir
    Path tmp;

    @Test
    void shouldReclaimExactlyTheFilesOfReplacedAndRemovedColumnsAndKeepEveryValue() throws Exception {
        final Path dir = tmp.resolve("store");
        final Map<String, String> fingerprints;
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("a", TestData.random(DType.F32, Shape.of(300, 17), 1));
            store.append("b", TestData.random(DType.F16, Shape.of(40, 9), 2));
            store.append("c", TestData.random(DType.I64, Shape.of(10), 3));
            appendList(store, "list", 4);
            store.checkpoint();
            final Set<String> garbage = new TreeSet<>(columnFiles(dir, store.describe("a").columnId()));
            garbage.addAll(columnFiles(dir, store.describe("b").columnId()));
            garbage.addAll(columnFiles(dir, store.describe("list").columnId()));
            final long garbageBytes = sizeOf(dir, garbage);
            final long liveIdOfC = store.describe("c").columnId();

            store.put("a", TestData.random(DType.F32, Shape.of(5, 5), 5));
            store.remove("b");
            store.append("c", TestData.random(DType.I64, Shape.of(7), 6));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.remove("list");
                batch.appendToList("list", TestData.random(DType.BF16, Shape.of(2, 3), 7).view());
                batch.commit();
            }
            final long columnsBefore = sizeOf(dir, listColumns(dir));

            final CompactionReport report = store.compact();

            assertEquals(garbage.size(), report.filesDeleted(), report.toString());
            assertEquals(garbageBytes, report.bytesDeleted(), report.toString());
            assertEquals(garbageBytes, columnsBefore - sizeOf(dir, listColumns(dir)), "columns/ shrank by them");
            assertEquals(0, report.bytesTrimmed());
            assertEquals(0, report.columnsRewritten());
            for (final String name : garbage) {
                assertFalse(Files.exists(dir.resolve(StoreFiles.COLUMNS).resolve(name)), name);
            }
            assertEquals(liveIdOfC, store.describe("c").columnId(), "a live column keeps its id");
            assertEquals(directoryBytes(dir), report.directoryBytesAfter());
            assertEquals(report.bytesOnDiskAfter(), store.bytesOnDisk());
            assertEquals(store.bytesOnDisk(), report.directoryBytesAfter() - lockBytes(dir),
                "after compaction the store's accounting is every file but the lock's");
            assertEquals(report.directoryBytesBefore() - report.directoryBytesAfter(), report.bytesReclaimed());
            assertTrue(report.bytesReclaimed() > 0, report.toString());

            assertTrue(store.get("a").contentEquals(TestData.random(DType.F32, Shape.of(5, 5), 5).view()));
            assertFalse(store.contains("b"));
            final TensorView c = store.get("c");
            assertTrue(c.rows(0, 10).contentEquals(TestData.random(DType.I64, Shape.of(10), 3).view()));
            assertTrue(c.rows(10, 17).contentEquals(TestData.random(DType.I64, Shape.of(7), 6).view()));
            final List<TensorView> list = store.getList("list");
            assertEquals(1, list.size());
            assertTrue(list.get(0).contentEquals(TestData.random(DType.BF16, Shape.of(2, 3), 7).view()));
            store.verify();
            fingerprints = fingerprints(store);
        }
        final ChildJvm.Result child = ChildJvm.run(List.of("-Xmx128m"), true, 60, Reopen.class, dir.toString());
        assertEquals(0, child.exitCode(), child.describe());
        assertEquals(fingerprints.toString(), child.stdout().strip(), child.describe());
    }

    @Test
    void shouldDeleteOrphansAndStaleTemporariesButNoFileItDidNotWrite() throws IOException {
        final Path dir = tmp.resolve("store");
        final Tensor value = TestData.random(DType.F32, Shape.of(20, 8), 1);
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("a", value);
        }
        final Path columnsDir = dir.resolve(StoreFiles.COLUMNS);
        final Map<Path, Integer> orphans = Map.of(columnsDir.resolve("9001.npy"), 5000,
            columnsDir.resolve("9001.crc"), 68, columnsDir.resolve("9002.list"), 300,
            columnsDir.resolve("9002.items"), 144, dir.resolve("manifest.json.tmp"), 77,
            dir.resolve("index.cmap.rebuild"), 1000, dir.resolve("actcache.properties.tmp"), 12);
        long orphanBytes = 0;
        for (final Map.Entry<Path, Integer> orphan : orphans.entrySet()) {
            Files.write(orphan.getKey(), new byte[orphan.getValue()]);
            orphanBytes += orphan.getValue();
        }
        final Path foreignInColumns = columnsDir.resolve("notes.txt");
        final Path foreignInRoot = dir.resolve("README");
        Files.writeString(foreignInColumns, "not ours");
        Files.writeString(foreignInRoot, "not ours either");

        try (ActivationStore store = ActivationStore.open(dir)) {
            final CompactionReport report = store.compact();
            assertEquals(orphans.size(), report.filesDeleted(), report.toString());
            assertEquals(orphanBytes, report.bytesDeleted());
            orphans.keySet().forEach(orphan -> assertFalse(Files.exists(orphan), orphan.toString()));
            assertTrue(store.get("a").contentEquals(value.view()));
            store.verify();
        }
        assertEquals("not ours", Files.readString(foreignInColumns));
        assertEquals("not ours either", Files.readString(foreignInRoot));
    }

    @Test
    void shouldTrimBytesPastTheCommittedLengthAndReportAShortFileAsCorruption() throws IOException {
        final Path dir = tmp.resolve("store");
        final Tensor value = TestData.random(DType.F32, Shape.of(20, 8), 1);
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("a", value);
            store.append("b", value);
            final Path fileA = store.columnFile("a");
            final long committed = Files.size(fileA);
            Files.write(fileA, new byte[3000], StandardOpenOption.APPEND);

            final CompactionReport report = store.compact();

            assertEquals(3000, report.bytesTrimmed());
            assertEquals(committed, Files.size(fileA));
            assertTrue(store.get("a").contentEquals(value.view()));
            store.verify();

            final Path fileB = store.columnFile("b");
            try (var channel = java.nio.channels.FileChannel.open(fileB, StandardOpenOption.WRITE)) {
                channel.truncate(Files.size(fileB) - 1);
            }
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::compact);
            assertTrue(e.getMessage().contains(fileB.toString()), e.getMessage());
        }
    }

    @Test
    void shouldRefuseAReadOnlyStoreAndChangeNothing() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("a", TestData.random(DType.F32, Shape.of(4, 4), 1));
            store.put("a", TestData.random(DType.F32, Shape.of(4, 4), 2));
        }
        Files.write(dir.resolve(StoreFiles.COLUMNS).resolve("777.npy"), new byte[100]);
        final String before = DirectorySnapshot.of(dir);
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            final ActCacheException e = assertThrows(ActCacheException.class, reader::compact);
            assertTrue(e.getMessage().contains("read-only") && e.getMessage().contains(dir.toString()),
                e.getMessage());
        }
        assertEquals(before, DirectorySnapshot.of(dir));
    }

    @Test
    void shouldRefuseWhileABatchIsOpenAndLeaveItsFilesToIt() {
        final Tensor value = TestData.random(DType.F32, Shape.of(4, 4), 1);
        try (ActivationStore store = ActivationStore.create(tmp.resolve("store"), OPTIONS)) {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.put("new", value);
                final IllegalStateException e = assertThrows(IllegalStateException.class, store::compact);
                assertTrue(e.getMessage().contains("batch"), e.getMessage());
                batch.commit();
            }
            assertTrue(store.get("new").contentEquals(value.view()));
            assertEquals(0, store.compact().filesDeleted());
            assertTrue(store.get("new").contentEquals(value.view()));
        }
    }

    @Test
    void shouldRewriteTheSelectedColumnsIntoNewFilesByteForByte() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, OPTIONS)) {
            store.append("blocks.0.resid", TestData.random(DType.BF16, Shape.of(70, 33), 1));
            store.append("blocks.0.resid", TestData.random(DType.BF16, Shape.of(3, 33), 2));
            store.put("blocks.0.scale", TestData.random(DType.F64, Shape.of(), 3));
            appendList(store, "blocks.0.pattern", 10);
            store.append("blocks.1.resid", TestData.random(DType.F32, Shape.of(9, 2), 4));
            store.checkpoint();
            final Map<String, ColumnDescriptor> before = store.descriptors();
            final Map<String, String> fingerprints = fingerprints(store);
            final Set<String> oldFiles = new TreeSet<>();
            long oldBytes = 0;
            for (final String key : List.of("blocks.0.resid", "blocks.0.scale", "blocks.0.pattern")) {
                final List<String> files = columnFiles(dir, before.get(key).columnId());
                oldFiles.addAll(files);
                oldBytes += sizeOf(dir, files);
            }

            final CompactionReport report = store.compact(CompactOptions.builder()
                .rewrite(Pattern.compile("blocks\\.0\\..*")).build());

            assertEquals(3, report.columnsRewritten());
            assertEquals(oldFiles.size(), report.filesDeleted());
            assertEquals(oldBytes, report.bytesDeleted());
            final long maxOldId = before.values().stream().mapToLong(ColumnDescriptor::columnId).max().orElseThrow();
            for (final Map.Entry<String, ColumnDescriptor> entry : store.descriptors().entrySet()) {
                final ColumnDescriptor old = before.get(entry.getKey());
                if (entry.getKey().startsWith("blocks.0.")) {
                    assertTrue(entry.getValue().columnId() > maxOldId, entry.toString());
                    assertEquals(old.shape(), entry.getValue().shape());
                    assertEquals(old.byteSize(), entry.getValue().byteSize());
                    assertEquals(old.tailCrc(), entry.getValue().tailCrc());
                } else {
                    assertEquals(old, entry.getValue());
                }
            }
            assertEquals(fingerprints, fingerprints(store));
            store.verify();
            assertEquals(store.bytesOnDisk(), directoryBytes(dir) - lockBytes(dir));
        }
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            reopened.verify();
            assertEquals(0, reopened.compact().filesDeleted());
        }
    }

    @Test
    void shouldShrinkAnIndexThatGrewForKeysSinceRemoved() throws IOException {
        final Path dir = tmp.resolve("store");
        final StoreOptions options = StoreOptions.builder().durability(Durability.PROCESS).expectedKeys(16).build();
        try (ActivationStore store = ActivationStore.create(dir, options)) {
            for (int i = 0; i < 600; i++) {
                store.put("key_" + i, Tensor.ofFloats(Shape.of(1), i));
            }
            try (ActivationStore.Batch batch = store.batch()) {
                for (int i = 10; i < 600; i++) {
                    batch.remove("key_" + i);
                }
                batch.commit();
            }
        }
        final Path index = dir.resolve(StoreFiles.INDEX);
        try (ActivationStore store = ActivationStore.open(dir)) {
            final long grown = Files.size(index);
            final CompactionReport report = store.compact();
            final long shrunk = Files.size(index);
            assertTrue(shrunk < grown, "index " + grown + " -> " + shrunk + " bytes");
            assertTrue(report.bytesReclaimed() >= grown - shrunk, report.toString());
            // Opening the rebuilt file while the old map was open handed back the old, deleted file.
            try (java.util.stream.Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
                assertTrue(maps.noneMatch(line -> line.contains(index.toString()) && line.contains("(deleted)")),
                    "the writer maps the rebuilt index, not the deleted one");
            }
            for (int i = 0; i < 10; i++) {
                assertEquals(i, store.get("key_" + i).getFloat(0));
            }
            store.put("key_after", Tensor.ofFloats(Shape.of(1), 42f));
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(11, store.size());
            assertEquals(42f, store.get("key_after").getFloat(0));
        }
    }

    @Test
    void shouldGiveAStaleReaderAClearExceptionAndTheNewValuesAfterRefresh() {
        final Path dir = tmp.resolve("store");
        final Tensor oldK = TestData.random(DType.F32, Shape.of(64, 64), 1);
        final Tensor oldM = TestData.random(DType.F32, Shape.of(8, 8), 2);
        final Tensor newK = TestData.random(DType.F32, Shape.of(3, 3), 3);
        final Tensor newM = TestData.random(DType.F32, Shape.of(5, 8), 4);
        try (ActivationStore writer = ActivationStore.create(dir, OPTIONS)) {
            writer.append("k", oldK);
            writer.append("m", oldM);
            appendList(writer, "list", 3);
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                final TensorView mappedK = reader.get("k");
                assertTrue(mappedK.contentEquals(oldK.view()), "mapped before the compaction");
                writer.put("k", newK);
                writer.put("m", newM);
                writer.remove("list");
                writer.compact();

                assertTrue(mappedK.contentEquals(oldK.view()), "a mapping outlives the deleted file, unchanged");
                final StaleColumnException dense = assertThrows(StaleColumnException.class,
                    () -> reader.get("m").crc32c());
                assertTrue(dense.getMessage().contains("refresh()") && dense.getMessage().contains("'m'"),
                    dense.getMessage());
                final StaleColumnException list = assertThrows(StaleColumnException.class,
                    () -> reader.getList("list"));
                assertTrue(list.getMessage().contains("refresh()") && list.getMessage().contains("'list'"),
                    list.getMessage());

                assertTrue(reader.refresh());
                assertTrue(reader.get("k").contentEquals(newK.view()));
                assertTrue(reader.get("m").contentEquals(newM.view()));
                assertFalse(reader.contains("list"));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    static void appendList(final ActivationStore store, final String key, final long seed) {
        try (ActivationStore.Batch batch = store.batch()) {
            batch.appendToList(key, TestData.random(DType.I32, Shape.of(3, 5), seed).view());
            batch.appendToList(key, TestData.random(DType.I32, Shape.of(1200), seed + 1).view());
            batch.appendToList(key, TestData.random(DType.I32, Shape.of(7), seed + 2).view());
            batch.commit();
        }
    }

    /** @return every key's value as CRC32C text (a LIST as its items' CRCs), sorted by key. */
    static Map<String, String> fingerprints(final ActivationStore store) {
        final Map<String, String> all = new TreeMap<>();
        for (final Map.Entry<String, ColumnDescriptor> entry : store.descriptors().entrySet()) {
            final String key = entry.getKey();
            if (entry.getValue().kind() == ColumnKind.LIST) {
                final List<String> items = new ArrayList<>();
                store.getList(key).forEach(item -> items.add(item.shape() + ":" + Long.toHexString(item.crc32c())));
                all.put(key, String.join(",", items));
            } else {
                final TensorView view = store.get(key);
                all.put(key, view.dtype() + view.shape().toString() + ":" + Long.toHexString(view.crc32c()));
            }
        }
        return all;
    }

    /** @return the names in {@code columns/} of one column's files. */
    static List<String> columnFiles(final Path dir, final long columnId) throws IOException {
        return listColumns(dir).stream().filter(name -> name.startsWith(columnId + ".")).collect(Collectors.toList());
    }

    private static List<String> listColumns(final Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(StoreFiles.COLUMNS))) {
            return files.map(file -> file.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static long sizeOf(final Path dir, final Iterable<String> columnFileNames) throws IOException {
        long total = 0;
        for (final String name : columnFileNames) {
            total += Files.size(dir.resolve(StoreFiles.COLUMNS).resolve(name));
        }
        return total;
    }

    /** @return the apparent size of every file of the store, walked independently of the code under test. */
    static long directoryBytes(final Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            long total = 0;
            for (final Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                total += Files.size(file);
            }
            return total;
        }
    }

    private static long lockBytes(final Path dir) throws IOException {
        long total = 0;
        for (final String name : List.of(StoreFiles.LOCK, StoreFiles.LOCK_PID)) {
            if (Files.exists(dir.resolve(name))) {
                total += Files.size(dir.resolve(name));
            }
        }
        return total;
    }

    /** Child JVM: reopens the store as its writer, verifies it and prints its fingerprints. */
    public static final class Reopen {
        public static void main(final String[] args) {
            try (ActivationStore store = ActivationStore.open(Path.of(args[0]))) {
                store.verify();
                System.out.println(fingerprints(store));
            }
        }
    }
}
