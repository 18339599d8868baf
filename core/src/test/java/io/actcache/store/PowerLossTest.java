package io.actcache.store;

import io.actcache.ActCacheException;
import io.actcache.CorruptFileException;
import io.actcache.NotAStoreException;
import io.actcache.store.PowerLossImage.Keep;
import io.actcache.store.PowerLossImage.Mapped;
import io.actcache.store.RecordingFileLayer.Kind;
import io.actcache.store.RecordingFileLayer.Op;
import io.actcache.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Power loss, simulated: a store runs the crash model's commits (appends to several keys, replaces, removals,
 * list items, checkpoints every few commits, a clean close) through a {@link RecordingFileLayer}; then, for every
 * operation boundary k, {@link PowerLossImage} writes what the disk would hold had the machine stopped after
 * operation k into a fresh directory, with the Chronicle index's unknown content empty, garbage or a copy from
 * another moment. A reader and then a writer open each image and must find exactly the last commit whose journal
 * force completed, byte-exact, and {@code verify()} must pass. A kill (the page cache survives) cannot show a
 * missing force; this can. {@code PROCESS} and {@code NONE} stores are held to the durability table of
 * {@code docs/FORMAT.md}, including one real killed child JVM for {@code NONE}.
 */
class PowerLossTest {
    private static final int STEPS = 16;
    private static final int CHECKPOINT_EVERY = 5;
    /** Floats per row: 1028-byte rows complete 4 KiB checksum blocks every few appends, at every alignment. */
    private static final int WIDTH = 257;
    private static final Mapped[] MAPPED = Mapped.values();
    private static final int REOPEN_EVERY = 4;

    @TempDir
    Path tmp;

    private int images;

    /** A recorded workload: the operations and, per step, where its commit point lies. */
    private record Workload(RecordingFileLayer layer, long firstStep, long steps) {
        List<Op> ops() {
            return layer.ops();
        }

        /**
         * @param cut  operations that happened.
         * @param kind the operation on {@code journal} that makes step s count: a FORCE (power loss, FSYNC) or a
         *             WRITE (the record reached the page cache: a killed process).
         * @return the epoch a store must recover to.
         */
        long committedAt(final int cut, final Kind kind) {
            long epoch = firstStep - 1;
            for (final Op op : ops().subList(0, cut)) {
                if (op.is(kind, StoreFiles.JOURNAL) && op.probe() == epoch) {
                    epoch++;
                }
            }
            return epoch;
        }

        /** @return the epoch of the last checkpoint whose manifest rename was made durable within the cut. */
        long checkpointedAt(final int cut) {
            long epoch = 0;
            long renamed = -1;
            for (final Op op : ops().subList(0, cut)) {
                if (op.kind() == Kind.RENAME && op.target().equals(StoreFiles.MANIFEST)) {
                    renamed = Math.max(op.probe(), 0);
                } else if (op.is(Kind.FORCE_DIRECTORY, "") && renamed >= 0) {
                    epoch = renamed;
                    renamed = -1;
                }
            }
            return epoch;
        }
    }

    private static StoreOptions options(final Durability durability, final RecordingFileLayer layer) {
        return StoreOptions.builder().durability(durability).checksumBlockSize(4096)
            .fileLayer(layer).build();
    }

    /** Creates a store and commits the crash model's steps 1..STEPS, then closes it, all recorded. */
    private static Workload record(final Path dir, final Durability durability) {
        return record(dir, durability, CodecPolicy.raw());
    }

    /** {@link #record(Path, Durability)} with new DENSE columns in the policy's codecs (4 KiB blocks). */
    private static Workload record(final Path dir, final Durability durability, final CodecPolicy policy) {
        final RecordingFileLayer layer = new RecordingFileLayer(dir);
        try (ActivationStore store = ActivationStore.create(dir, options(durability, layer).toBuilder()
            .codecPolicy(policy).compressionBlockSize(4096).build())) {
            layer.probe(store::epoch);
            for (long step = 1; step <= STEPS; step++) {
                CrashModel.commit(store, step, WIDTH);
                if (step % CHECKPOINT_EVERY == 0) {
                    store.checkpoint();
                }
            }
        }
        return new Workload(layer, 1, STEPS);
    }

    @Test
    void shouldRecoverTheLastForcedCommitAfterAPowerLossAtEveryOperation() throws IOException {
        final Workload workload = record(tmp.resolve("live"), Durability.FSYNC);
        assertTrue(workload.ops().stream().filter(op -> op.is(Kind.RENAME, StoreFiles.MANIFEST + ".tmp")).count() >= 3,
            "the workload checkpoints several times");
        for (int cut = 0; cut <= workload.ops().size(); cut++) {
            final long expected = workload.committedAt(cut, Kind.FORCE);
            final Path image = image(workload, cut, Keep.FORCED, cut);
            recoverExactly(image, expected, expected, "cut " + cut + " of " + workload.ops().size());
            StoreFiles.deleteTree(image);
        }
    }

    @Test
    void shouldRecoverTheLastForcedCommitOfCompressedColumnsAfterAPowerLossAtEveryOperation() throws IOException {
        final Workload workload = record(tmp.resolve("live"), Durability.FSYNC,
            CodecPolicy.builder().prefix("k", io.actcache.codec.Codec.SHUFFLE_LZ4).build());
        assertTrue(workload.ops().stream().anyMatch(op -> op.path().endsWith(StoreFiles.BLOCK_INDEX_EXTENSION)),
            "the workload writes block indexes");
        for (int cut = 0; cut <= workload.ops().size(); cut++) {
            final long expected = workload.committedAt(cut, Kind.FORCE);
            final Path image = image(workload, cut, Keep.SOME_UNFORCED, 2000L + cut);
            recoverExactly(image, expected, workload.committedAt(cut, Kind.WRITE), "compressed, cut " + cut + " of "
                + workload.ops().size());
            StoreFiles.deleteTree(image);
        }
    }

    @Test
    void shouldRecoverWhenTheDiskAlsoKeptSomeUnforcedWritesInAnyOrder() throws IOException {
        final Workload workload = record(tmp.resolve("live"), Durability.FSYNC);
        int unforcedCommitsKept = 0;
        for (int cut = 0; cut <= workload.ops().size(); cut++) {
            final long forced = workload.committedAt(cut, Kind.FORCE);
            // The record of the commit in progress may have reached the disk whole before its force.
            final long written = workload.committedAt(cut, Kind.WRITE);
            final Path image = image(workload, cut, Keep.SOME_UNFORCED, 1000L + cut);
            if (recoverExactly(image, forced, written, "cut " + cut + " with some unforced writes kept") > forced) {
                unforcedCommitsKept++;
            }
            StoreFiles.deleteTree(image);
        }
        assertTrue(unforcedCommitsKept > 0, "some images kept a whole journal record that was not forced yet");
    }

    @Test
    void shouldRecoverAgainAfterAPowerLossDuringRecoveryAndTheCommitsAfterIt() throws IOException {
        final Workload first = record(tmp.resolve("live"), Durability.FSYNC);
        final int total = first.ops().size();
        for (int cut = total / 8; cut < total; cut += total / 8) {
            final Path image = image(first, cut, Keep.FORCED, cut);
            final long recovered = first.committedAt(cut, Kind.FORCE);
            if (!Files.exists(image.resolve(StoreFiles.PROPERTIES))) {
                continue;
            }
            // Second life of the image: recovery, two more commits and a close, recorded.
            final RecordingFileLayer layer = new RecordingFileLayer(image);
            try (ActivationStore store = ActivationStore.open(image, options(Durability.FSYNC, layer))) {
                layer.probe(store::epoch);
                assertEquals(recovered, store.epoch());
                CrashModel.commit(store, recovered + 1, WIDTH);
                CrashModel.commit(store, recovered + 2, WIDTH);
            }
            final Workload second = new Workload(layer, recovered + 1, 2);
            for (int cut2 = layer.existing(); cut2 <= second.ops().size(); cut2++) {
                final long expected = second.committedAt(cut2, Kind.FORCE);
                final Path image2 = image(second, cut2, Keep.FORCED, cut * 1000L + cut2);
                recoverExactly(image2, expected, expected, "cut " + cut + ", then cut " + cut2 + " of the recovery");
                StoreFiles.deleteTree(image2);
            }
            StoreFiles.deleteTree(image);
        }
    }

    @Test
    void shouldSurviveAKilledProcessButReturnToTheLastCheckpointAfterAPowerLossWithDurabilityProcess()
        throws IOException {
        final Workload workload = record(tmp.resolve("live"), Durability.PROCESS);
        for (int cut = 0; cut <= workload.ops().size(); cut++) {
            final long written = workload.committedAt(cut, Kind.WRITE);
            final Path killed = image(workload, cut, Keep.ALL, cut);
            recoverExactly(killed, written, written, "PROCESS, killed after operation " + cut);
            StoreFiles.deleteTree(killed);

            final long checkpointed = workload.checkpointedAt(cut);
            final Path powerLoss = image(workload, cut, Keep.FORCED, cut);
            recoverExactly(powerLoss, checkpointed, checkpointed, "PROCESS, power loss after operation " + cut);
            StoreFiles.deleteTree(powerLoss);
        }
    }

    @Test
    void shouldRefuseToReopenANoneStoreAfterAKillOrAPowerLossWhileOpen() throws IOException {
        final Workload workload = record(tmp.resolve("live"), Durability.NONE);
        final List<Op> ops = workload.ops();
        // The store exists, open and marked, once lock.pid and its directory entry are forced and actcache.properties
        // is in place: create takes the lock before it writes the store's files.
        int lockForced = indexOf(ops, op -> op.is(Kind.FORCE, StoreFiles.LOCK_PID));
        while (lockForced < ops.size() && !ops.get(lockForced).is(Kind.FORCE_DIRECTORY, "")) {
            lockForced++;
        }
        final int locked = Math.max(lockForced,
            indexOf(ops, op -> op.kind() == Kind.RENAME && StoreFiles.PROPERTIES.equals(op.target())));
        final int unlocked = indexOf(ops, op -> op.is(Kind.DELETE, StoreFiles.LOCK_PID));
        assertTrue(locked > 0 && unlocked > locked, "lock.pid is forced at open and deleted at close");
        for (int cut = locked + 1; cut <= unlocked; cut++) {
            for (final Keep keep : new Keep[] {Keep.ALL, Keep.FORCED}) {
                final Path image = image(workload, cut, keep, cut);
                final String what = "NONE, " + keep + " after operation " + cut;
                final ActCacheException e = assertThrows(ActCacheException.class, () -> ActivationStore.open(image).close(),
                    what + " must not reopen");
                if (keep == Keep.ALL) {
                    assertTrue(e instanceof CorruptFileException && e.getMessage().contains("not closed cleanly"),
                        what + ": " + e);
                }
                StoreFiles.deleteTree(image);
            }
        }
        final Path closed = image(workload, ops.size(), Keep.ALL, Mapped.LIVE.ordinal());
        recoverExactly(closed, STEPS, STEPS, "NONE after a clean close, page cache intact");
    }

    @Test
    void shouldRefuseToReopenANoneStoreWhoseWriterProcessWasKilled() throws Exception {
        final Path dir = tmp.resolve("none");
        final Process child = ChildJvm.start(List.of("-Xmx128m"), true, NoneWriter.class, dir.toString());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
            StandardCharsets.UTF_8))) {
            assertEquals("committed", out.readLine(), "the child commits, then waits to be killed");
            child.destroyForcibly().waitFor();
        } finally {
            child.destroyForcibly();
        }
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> ActivationStore.open(dir));
        assertTrue(e.getMessage().contains("not closed cleanly") && e.getMessage().contains(dir.toString()),
            e.getMessage());
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertEquals(1, reader.epoch(), "a reader can still copy what the killed writer left");
            CrashModel.assertMatches(reader, WIDTH);
        }
    }

    /** Child: creates a NONE store, commits step 1, says so, and waits to be killed. */
    public static final class NoneWriter {
        public static void main(final String[] args) throws InterruptedException {
            final ActivationStore store = ActivationStore.create(Path.of(args[0]),
                StoreOptions.builder().durability(Durability.NONE).checksumBlockSize(4096).build());
            CrashModel.commit(store, 1, WIDTH);
            System.out.println("committed");
            System.out.flush();
            Thread.sleep(120_000);
            store.close();
        }
    }

    private Path image(final Workload workload, final int cut, final Keep keep, final long seed) throws IOException {
        final Path image = tmp.resolve("image-" + keep + "-" + cut);
        PowerLossImage.write(workload.ops(), cut, keep, MAPPED[(int) (seed % MAPPED.length)], seed,
            workload.layer().root(), image);
        return image;
    }

    /**
     * Opens an image as a reader (no recovery: what a reader maps), then as a writer (recovery), and checks both
     * see the same epoch in {@code [min, max]} with exactly the crash model's contents, and that verify passes.
     * Every {@link #REOPEN_EVERY}th image is opened once more after the writer's clean close.
     *
     * @return the epoch recovered.
     */
    private long recoverExactly(final Path image, final long min, final long max, final String what) {
        if (!Files.exists(image.resolve(StoreFiles.PROPERTIES))) {
            assertEquals(0, max, what + ": the store was already created, yet " + StoreFiles.PROPERTIES + " is lost");
            assertThrows(NotAStoreException.class, () -> ActivationStore.open(image), what);
            return 0;
        }
        final long readerEpoch;
        try (ActivationStore reader = ActivationStore.openReadOnly(image)) {
            readerEpoch = reader.epoch();
            assertTrue(readerEpoch >= min && readerEpoch <= max, what + ": a reader sees epoch " + readerEpoch
                + ", expected " + min + (max == min ? "" : ".." + max));
            CrashModel.assertMatches(reader, WIDTH);
        } catch (final ActCacheException | AssertionError e) {
            throw new AssertionError(what + ": reader: " + e, e);
        }
        final int opens = ++images % REOPEN_EVERY == 0 ? 2 : 1;
        for (int open = 0; open < opens; open++) {
            try (ActivationStore store = ActivationStore.open(image)) {
                assertEquals(readerEpoch, store.epoch(), what + ": the writer recovered another epoch than the reader");
                CrashModel.assertMatches(store, WIDTH);
                store.verify();
            } catch (final ActCacheException | AssertionError e) {
                fail(what + ": writer open " + (open + 1) + ": " + e, e);
            }
        }
        return readerEpoch;
    }

    private static int indexOf(final List<Op> ops, final java.util.function.Predicate<Op> test) {
        for (int i = 0; i < ops.size(); i++) {
            if (test.test(ops.get(i))) {
                return i;
            }
        }
        return -1;
    }
}
