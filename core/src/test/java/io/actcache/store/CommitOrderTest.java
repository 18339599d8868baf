package io.actcache.store;

import io.actcache.store.RecordingFileLayer.Kind;
import io.actcache.store.RecordingFileLayer.Op;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The order of file operations of every durable step, recorded through {@link RecordingFileLayer} on real files:
 * a commit writes data, forces it (and {@code columns/} when files were created), appends the journal record,
 * forces it, rewrites NPY headers, and only then advances the index; a checkpoint writes, forces and renames the
 * manifest, forces the directory, starts a new journal generation the same way, then deletes old column files;
 * open makes {@code lock.pid} durable before the index is touched; close forces the index before deleting it.
 */
class CommitOrderTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path tmp;

    private RecordingFileLayer layer;

    private ActivationStore create(final Path dir) {
        layer = new RecordingFileLayer(dir);
        final ActivationStore store = ActivationStore.create(dir, StoreOptions.builder().durability(Durability.FSYNC)
            .checksumBlockSize(BLOCK).checkpointJournalBytes(1L << 30).fileLayer(layer).build());
        layer.probe(store::indexAppliedEpoch);
        return store;
    }

    @Test
    void shouldForceDataThenJournalThenRewriteHeadersThenAdvanceTheIndexForABatch() {
        try (ActivationStore store = create(tmp.resolve("store"))) {
            store.append("a", TestData.random(DType.F32, Shape.of(3, 100), 1));
            store.append("b", TestData.random(DType.F32, Shape.of(2, 100), 2));
            final int mark = layer.size();
            try (ActivationStore.Batch batch = store.batch()) {
                // 12 rows of 400 bytes complete the first checksum block of "a": its .crc file is written too.
                batch.append("a", TestData.random(DType.F32, Shape.of(12, 100), 3));
                batch.append("b", TestData.random(DType.F32, Shape.of(1, 100), 4));
                batch.append("c", TestData.random(DType.F32, Shape.of(5, 7), 5));
                batch.appendToList("l", TestData.random(DType.I32, Shape.of(3, 4), 6).view());
                batch.commit();
            }
            final List<Op> ops = since(mark);
            assertCommitOrder(ops, 3);
            assertEquals(names(store, "a", "b", "c"), headerRewrites(ops), trace(ops));
            assertTrue(ops.stream().anyMatch(op -> op.is(Kind.WRITE, crcFile(store, "a"))), trace(ops));
            assertTrue(ops.stream().anyMatch(op -> op.kind() == Kind.CREATE && op.inColumns()), trace(ops));
            assertEquals(3, store.indexAppliedEpoch());
        }
    }

    @Test
    void shouldOrderAPutAndARemoveTheSameWayAndDeleteNothingBeforeTheCheckpoint() {
        try (ActivationStore store = create(tmp.resolve("store"))) {
            store.append("a", TestData.random(DType.F32, Shape.of(3, 10), 1));
            store.append("b", TestData.random(DType.F32, Shape.of(3, 10), 2));
            int mark = layer.size();
            store.put("a", TestData.random(DType.F64, Shape.of(4), 3));
            List<Op> ops = since(mark);
            assertCommitOrder(ops, 3);
            assertEquals(names(store, "a"), headerRewrites(ops), trace(ops));
            assertTrue(ops.stream().noneMatch(op -> op.kind() == Kind.DELETE), trace(ops));

            mark = layer.size();
            store.remove("b");
            ops = since(mark);
            assertCommitOrder(ops, 4);
            assertTrue(ops.stream().noneMatch(Op::inColumns), "a removal touches no column file: " + trace(ops));
            assertEquals(4, store.indexAppliedEpoch());
        }
    }

    @Test
    void shouldWriteForceAndRenameTheManifestThenStartANewJournalThenDeleteOldFiles() {
        try (ActivationStore store = create(tmp.resolve("store"))) {
            store.append("a", TestData.random(DType.F32, Shape.of(3, 10), 1));
            store.append("b", TestData.random(DType.F32, Shape.of(3, 10), 2));
            final Set<String> old = new TreeSet<>();
            old.add(StoreFiles.COLUMNS + "/" + store.columnFile("a").getFileName());
            old.add(crcFile(store, "a"));
            old.add(StoreFiles.COLUMNS + "/" + store.columnFile("b").getFileName());
            old.add(crcFile(store, "b"));
            store.put("a", TestData.random(DType.F32, Shape.of(1, 10), 3));
            store.remove("b");
            final int mark = layer.size();
            store.checkpoint();
            final List<String> steps = new ArrayList<>();
            final Set<String> deleted = new TreeSet<>();
            boolean forcesDone = false;
            for (final Op op : since(mark)) {
                if (op.kind() == Kind.FORCE && op.inColumns() && !forcesDone) {
                    continue; // the columns touched since the last checkpoint, forced first
                }
                forcesDone = true;
                if (op.kind() == Kind.DELETE) {
                    deleted.add(op.path());
                    steps.add("DELETE");
                } else if (steps.isEmpty() || !steps.get(steps.size() - 1).equals(op.kind() + " " + op.path())) {
                    steps.add(op.kind() + " " + op.path() + (op.target() == null ? "" : " -> " + op.target()));
                }
            }
            assertEquals(List.of(
                "CREATE manifest.json.tmp", "WRITE manifest.json.tmp", "FORCE manifest.json.tmp",
                "RENAME manifest.json.tmp -> manifest.json", "FORCE_DIRECTORY ",
                "CREATE journal.tmp", "WRITE journal.tmp", "FORCE journal.tmp",
                "RENAME journal.tmp -> journal", "FORCE_DIRECTORY ",
                "DELETE", "DELETE", "DELETE", "DELETE", "FORCE_DIRECTORY columns"), steps, trace(since(mark)));
            assertEquals(old, deleted);
        }
    }

    @Test
    void shouldMakeLockPidDurableBeforeTheIndexAndForceTheIndexBeforeACleanClose() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = create(dir)) {
            store.append("a", TestData.random(DType.F32, Shape.of(3, 10), 1));
        }
        final List<Op> created = layer.ops();
        final int properties = indexOf(created, op -> op.is(Kind.RENAME, StoreFiles.PROPERTIES + ".tmp"));
        final int parentForce = indexOf(created, op -> op.is(Kind.FORCE_DIRECTORY, ".."));
        assertTrue(parentForce >= 0 && parentForce < properties,
            "the parent of a new store is forced before it becomes a store: " + trace(created));
        assertLockBeforeIndexAndIndexBeforeUnlock(created);

        layer = new RecordingFileLayer(dir);
        try (ActivationStore store = ActivationStore.open(dir, StoreOptions.builder().fileLayer(layer).build())) {
            store.append("a", TestData.random(DType.F32, Shape.of(3, 10), 2));
        }
        assertLockBeforeIndexAndIndexBeforeUnlock(layer.ops());
    }

    private static void assertLockBeforeIndexAndIndexBeforeUnlock(final List<Op> ops) {
        final int pidForce = indexOf(ops, op -> op.is(Kind.FORCE, StoreFiles.LOCK_PID));
        int dirForce = pidForce + 1;
        while (dirForce < ops.size() && !ops.get(dirForce).is(Kind.FORCE_DIRECTORY, "")) {
            dirForce++;
        }
        final int firstIndexUse = indexOf(ops, op -> op.kind() == Kind.MAPPED);
        assertTrue(pidForce >= 0 && dirForce > pidForce && firstIndexUse > dirForce,
            "lock.pid and its directory entry are forced before the index is touched: " + trace(ops));
        final int indexForce = indexOf(ops, op -> op.is(Kind.FORCE_MAPPED, StoreFiles.INDEX));
        final int unlock = indexOf(ops, op -> op.is(Kind.DELETE, StoreFiles.LOCK_PID));
        assertTrue(indexForce > 0 && unlock == ops.size() - 1 && indexForce < unlock,
            "a clean close forces the index, then deletes lock.pid, last: " + trace(ops));
    }

    /**
     * Checks one commit's operations: data writes and their forces, the columns/ directory force when files were
     * created, one journal write and its force, then only NPY header rewrites, all before the index advances.
     */
    private static void assertCommitOrder(final List<Op> ops, final long epoch) {
        final String trace = trace(ops);
        final List<Integer> journalWrites = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).is(Kind.WRITE, StoreFiles.JOURNAL)) {
                journalWrites.add(i);
            }
        }
        assertEquals(1, journalWrites.size(), "one journal record per commit: " + trace);
        final int journalWrite = journalWrites.get(0);
        final int journalForce = journalWrite + 1;
        assertTrue(journalForce < ops.size() && ops.get(journalForce).is(Kind.FORCE, StoreFiles.JOURNAL),
            "the journal record is forced right after it is written: " + trace);
        final Map<Integer, Integer> lastDataChange = new HashMap<>();
        int lastCreate = -1;
        for (int i = 0; i < journalWrite; i++) {
            final Op op = ops.get(i);
            if (!op.inColumns() && !op.is(Kind.FORCE_DIRECTORY, StoreFiles.COLUMNS)) {
                fail("only column files change before the journal record: " + op + " in " + trace);
            }
            switch (op.kind()) {
                case CREATE -> {
                    lastCreate = i;
                    lastDataChange.put(op.node(), i);
                }
                case WRITE, TRUNCATE -> lastDataChange.put(op.node(), i);
                case FORCE -> lastDataChange.computeIfPresent(op.node(), (node, at) -> null);
                case FORCE_DIRECTORY -> {
                    // checked below
                }
                default -> fail("unexpected operation before the journal record: " + op + " in " + trace);
            }
        }
        assertTrue(lastDataChange.isEmpty(), "every written column file is forced before the journal record; not "
            + lastDataChange.values().stream().map(ops::get).collect(Collectors.toList()) + " in " + trace);
        if (lastCreate >= 0) {
            boolean forced = false;
            for (int i = lastCreate + 1; i < journalWrite; i++) {
                forced |= ops.get(i).is(Kind.FORCE_DIRECTORY, StoreFiles.COLUMNS);
            }
            assertTrue(forced, "columns/ is forced after its new files and before the journal record: " + trace);
        }
        for (int i = 0; i <= journalForce; i++) {
            assertEquals(epoch - 1, ops.get(i).probe(), "the index advances only after the commit point: " + trace);
        }
        for (int i = journalForce + 1; i < ops.size(); i++) {
            final Op op = ops.get(i);
            assertTrue(op.kind() == Kind.WRITE && op.position() == 0 && op.path().endsWith(StoreFiles.NPY_EXTENSION),
                "only NPY header rewrites follow the commit point: " + op + " in " + trace);
            assertEquals(epoch - 1, op.probe(), "headers are rewritten before the index advances: " + trace);
        }
    }

    private List<Op> since(final int mark) {
        return new ArrayList<>(layer.ops().subList(mark, layer.size()));
    }

    private static Set<String> headerRewrites(final List<Op> ops) {
        final int journalForce = indexOf(ops, op -> op.is(Kind.FORCE, StoreFiles.JOURNAL));
        return ops.subList(journalForce + 1, ops.size()).stream().map(Op::path).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> names(final ActivationStore store, final String... keys) {
        final Set<String> names = new TreeSet<>();
        for (final String key : keys) {
            names.add(StoreFiles.COLUMNS + "/" + store.columnFile(key).getFileName());
        }
        return names;
    }

    private static String crcFile(final ActivationStore store, final String key) {
        return StoreFiles.COLUMNS + "/" + store.describe(key).columnId() + StoreFiles.CHECKSUM_EXTENSION;
    }

    private static int indexOf(final List<Op> ops, final java.util.function.Predicate<Op> test) {
        for (int i = 0; i < ops.size(); i++) {
            if (test.test(ops.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static String trace(final List<Op> ops) {
        return ops.stream().map(Op::toString).collect(Collectors.joining("\n  ", "\n  ", ""));
    }
}
