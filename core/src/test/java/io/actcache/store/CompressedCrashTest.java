package io.actcache.store;

import io.actcache.codec.Codec;
import io.actcache.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
            final Process child = ChildJvm.start(List.of("-Xmx256m",
                "-Dactcache.test.crashWindowMillis=" + WINDOW_MILLIS), true, Child.class, dir.toString());
            final AtomicLong acked = new AtomicLong(-1);
            final BlockingQueue<String> phasesSeen = new LinkedBlockingQueue<>();
            final Thread reader = new Thread(() -> readChild(child, acked, phasesSeen));
            reader.start();
            final int skip = random.nextInt(3);
            int seen = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            boolean killed = false;
            while (!killed) {
                final String line = phasesSeen.poll(1, TimeUnit.SECONDS);
                if (System.nanoTime() > deadline || line == null && !child.isAlive()) {
                    child.destroyForcibly().waitFor();
                    throw new AssertionError("round " + round + ": child never reached phase " + target + "\n"
                        + new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
                }
                if (line != null && line.equals(target.name()) && seen++ >= skip) {
                    child.destroyForcibly();
                    killed = true;
                }
            }
            child.waitFor();
            reader.join();
            kills++;
            try (ActivationStore store = ActivationStore.open(dir)) {
                final long epoch = store.epoch();
                final long lastAcked = Math.max(acked.get(), verifiedEpoch);
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

    private static void readChild(final Process child, final AtomicLong acked, final BlockingQueue<String> phases) {
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("acked ")) {
                    acked.set(Long.parseLong(line.substring(6)));
                } else if (line.startsWith("phase ")) {
                    phases.add(line.substring(6));
                }
            }
        } catch (final java.io.IOException e) {
            // The child was killed mid-line.
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
