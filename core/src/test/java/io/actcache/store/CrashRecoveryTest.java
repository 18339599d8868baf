package io.actcache.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM commits in a loop (appends, replaces, removals, list items) and prints each epoch once its
 * commit returns; the parent SIGKILLs it inside a chosen phase of a commit, reopens the store and checks that
 * every acknowledged epoch is present, byte-exact, with no partial commit visible. Rounds cycle through the
 * phases so each gets at least {@link #KILLS_PER_PHASE} kills; the child's crash-point hook widens and
 * announces each window.
 */
class CrashRecoveryTest {
    private static final int KILLS_PER_PHASE = Integer.getInteger("actcache.test.killsPerPhase", 6);
    private static final long WINDOW_MILLIS = 15;

    @TempDir
    Path tmp;

    @Test
    void shouldKeepEveryAcknowledgedCommitThroughSigkillsInEveryPhase() throws Exception {
        final Path dir = tmp.resolve("crash");
        final CrashPoints.Phase[] phases = CrashPoints.Phase.values();
        final Map<CrashPoints.Phase, Integer> landed = new EnumMap<>(CrashPoints.Phase.class);
        final Random random = new Random(42);
        long verifiedEpoch = 0;
        int kills = 0;
        for (int round = 0; round < KILLS_PER_PHASE * phases.length; round++) {
            final CrashPoints.Phase target = phases[round % phases.length];
            final long acked = KilledChild.runUntilKilled(Child.class, dir, WINDOW_MILLIS, target,
                random.nextInt(3), round);
            kills++;
            landed.merge(target, 1, Integer::sum);

            try (ActivationStore store = ActivationStore.open(dir)) {
                final long epoch = store.epoch();
                final long lastAcked = Math.max(acked, verifiedEpoch);
                assertTrue(epoch == lastAcked || epoch == lastAcked + 1, "round " + round + " (" + target
                    + "): recovered epoch " + epoch + ", last acknowledged " + lastAcked);
                CrashModel.assertMatches(store);
                store.verify();
                verifiedEpoch = epoch;
            }
        }
        assertEquals(KILLS_PER_PHASE * phases.length, kills);
        for (final CrashPoints.Phase phase : phases) {
            assertTrue(landed.getOrDefault(phase, 0) >= KILLS_PER_PHASE, "kills per phase: " + landed);
        }
        assertTrue(verifiedEpoch > kills, "the workload made progress: epoch " + verifiedEpoch);
        assertTrue(Files.exists(dir.resolve(StoreFiles.MANIFEST)));
    }

    /** Child: opens or creates the store and commits the model's steps until killed. */
    public static final class Child {
        public static void main(final String[] args) {
            final Path dir = Path.of(args[0]);
            final StoreOptions options = StoreOptions.builder().durability(Durability.FSYNC)
                .checkpointJournalBytes(4096).checksumBlockSize(4096).build();
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
