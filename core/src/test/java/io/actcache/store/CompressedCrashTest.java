package io.actcache.store;

import io.actcache.codec.Codec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CrashRecoveryTest}'s workload with every DENSE column SHUFFLE_LZ4-compressed in 4 KiB blocks, so appends
 * keep rewriting partial last blocks and superseding their index entries: a child JVM is SIGKILLed inside appends
 * (between data writes), halfway through journal records, and after commits; every reopen must hold every
 * acknowledged commit, value for value, in compressed columns that pass {@code verify}.
 */
class CompressedCrashTest {
    private static final int KILLS_PER_PHASE = Integer.getInteger("actcache.test.killsPerPhase", 6) / 2 + 1;
    private static final long WINDOW_MILLIS = 15;
    private static final CrashPoints.Phase[] PHASES = {CrashPoints.Phase.DATA_WRITE,
        CrashPoints.Phase.JOURNAL_WRITE, CrashPoints.Phase.INDEX_UPDATE};

    @TempDir
    Path tmp;

    @Test
    void shouldKeepEveryAcknowledgedCommitOfCompressedColumnsThroughSigkills() throws Exception {
        final Path dir = tmp.resolve("crash");
        final Random random = new Random(7);
        long verifiedEpoch = 0;
        int kills = 0;
        for (int round = 0; round < KILLS_PER_PHASE * PHASES.length; round++) {
            final CrashPoints.Phase target = PHASES[round % PHASES.length];
            final long acked = KilledChild.runUntilKilled(Child.class, dir, WINDOW_MILLIS, target,
                random.nextInt(3), round);
            kills++;
            try (ActivationStore store = ActivationStore.open(dir)) {
                final long epoch = store.epoch();
                final long lastAcked = Math.max(acked, verifiedEpoch);
                assertTrue(epoch == lastAcked || epoch == lastAcked + 1, "round " + round + " (" + target
                    + "): recovered epoch " + epoch + ", last acknowledged " + lastAcked);
                for (final String key : store.keys()) {
                    if (store.describe(key).kind() == ColumnKind.DENSE && store.describe(key).shape().rank() > 0) {
                        assertEquals(Codec.SHUFFLE_LZ4, store.describe(key).codec(), key);
                    }
                }
                CrashModel.assertMatches(store);
                store.verify();
                verifiedEpoch = epoch;
            }
        }
        assertEquals(KILLS_PER_PHASE * PHASES.length, kills);
        assertTrue(verifiedEpoch > kills, "the workload made progress: epoch " + verifiedEpoch);
        try (var files = Files.list(dir.resolve(StoreFiles.COLUMNS))) {
            assertTrue(files.anyMatch(f -> f.toString().endsWith(StoreFiles.BLOCK_INDEX_EXTENSION)));
        }
    }

    /** Child: opens or creates the store with every DENSE column compressed and commits until killed. */
    public static final class Child {
        public static void main(final String[] args) {
            final Path dir = Path.of(args[0]);
            final StoreOptions options = StoreOptions.builder().durability(Durability.FSYNC)
                .checkpointJournalBytes(4096).checksumBlockSize(4096).compressionBlockSize(4096)
                .codecPolicy(CodecPolicy.all(Codec.SHUFFLE_LZ4)).build();
            try (ActivationStore store = Files.exists(dir) ? ActivationStore.open(dir, options)
                : ActivationStore.create(dir, options)) {
                for (long step = store.epoch() + 1; ; step++) {
                    CrashModel.commit(store, step);
                    System.out.println("acked " + step);
                    System.out.flush();
                }
            }
        }
    }
}
