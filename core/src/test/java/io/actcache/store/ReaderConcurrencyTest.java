package io.actcache.store;

import io.actcache.StaleColumnException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Readers in other processes beside a live writer. The writer commits {@link SelfDescribingWorkload} steps
 * (appends, replaces, removals, list items, metadata) with frequent checkpoints, which start new journal
 * generations and delete the files of replaced and removed columns, while a child JVM loops {@code refresh()} and
 * checks that everything it reads is one whole committed state. Readers killed mid-read never block or disturb
 * the writer. The concurrent run lasts {@code actcache.test.readerSeconds} (default 30).
 */
class ReaderConcurrencyTest {
    private static final long SECONDS = Long.getLong("actcache.test.readerSeconds", 30);
    private static final int CHECKPOINT_EVERY = 150;
    private static final StoreOptions OPTIONS = StoreOptions.builder().durability(Durability.PROCESS)
        .checksumBlockSize(4096).checkpointJournalBytes(64 << 10).build();

    @TempDir
    Path tmp;

    @Test
    void shouldShowAReaderProcessOnlyWholeCommitsWhileTheWriterCommitsAndCheckpoints() throws Exception {
        final Path dir = tmp.resolve("store");
        final SelfDescribingWorkload workload = new SelfDescribingWorkload(1);
        final ActivationStore writer = ActivationStore.create(dir, OPTIONS);
        try {
            for (int i = 0; i < 20; i++) {
                workload.commit(writer);
            }
            final Process reader = ChildJvm.start(List.of("-Xmx128m"), true, ReaderLoop.class, dir.toString());
            final BlockingQueue<String> lines = pump(reader);
            assertEquals("ready", lines.poll(60, TimeUnit.SECONDS), () -> "reader did not start: " + stderr(reader));

            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            int checkpoints = 0;
            while (System.nanoTime() < deadline && reader.isAlive()) {
                workload.commit(writer);
                if (writer.epoch() % CHECKPOINT_EVERY == 0) {
                    writer.checkpoint();
                    checkpoints++;
                }
            }
            final long finalEpoch = writer.epoch();
            writer.close();
            try (Writer in = new java.io.OutputStreamWriter(reader.getOutputStream(), StandardCharsets.UTF_8)) {
                in.write("stop " + finalEpoch + "\n");
            }
            assertTrue(reader.waitFor(120, TimeUnit.SECONDS), "reader did not stop");
            final List<String> output = new ArrayList<>();
            lines.drainTo(output);
            final String report = String.join("\n", output) + "\n--- stderr\n" + stderr(reader);
            assertEquals(0, reader.exitValue(), report);
            final Map<String, Long> summary = summary(output, report);

            assertEquals(0, summary.get("violations"), report);
            assertTrue(output.stream().noneMatch(line -> line.startsWith("violation")), report);
            assertEquals(finalEpoch, summary.get("finalEpoch"), "the reader converged on the last commit: " + report);
            final long minimum = Math.max(10, 2 * SECONDS);
            assertTrue(summary.get("newEpochs") >= minimum, "refreshes that saw new epochs, at least " + minimum
                + ": " + report);
            assertTrue(summary.get("checks") >= minimum, "whole checks, at least " + minimum + ": " + report);
            assertTrue(summary.get("lastEpoch") - summary.get("firstEpoch") > 3 * CHECKPOINT_EVERY,
                "the reader followed the writer across several journal generations: " + report);
            assertTrue(checkpoints >= 3, "checkpoints: " + checkpoints);
            System.out.println("reader beside a writer for " + SECONDS + " s: epochs 20.." + finalEpoch + ", "
                + checkpoints + " explicit checkpoints; reader " + summary);
        } finally {
            writer.close();
        }
        try (ActivationStore store = ActivationStore.open(dir, OPTIONS)) {
            assertEquals(List.of(), SelfDescribingWorkload.check(store));
            store.verify();
        }
    }

    @Test
    void shouldNeverBlockOrDisturbTheWriterWhenReaderProcessesAreKilledMidRead() throws Exception {
        final Path dir = tmp.resolve("store");
        final SelfDescribingWorkload workload = new SelfDescribingWorkload(2);
        final AtomicLong epoch = new AtomicLong();
        final AtomicLong longestCommitNanos = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final ActivationStore writer = ActivationStore.create(dir, OPTIONS);
        for (int i = 0; i < 20; i++) {
            workload.commit(writer);
        }
        epoch.set(writer.epoch());
        // The writer is confined to this thread until it is joined.
        final Thread writing = new Thread(() -> {
            try {
                while (!stop.get()) {
                    final long start = System.nanoTime();
                    workload.commit(writer);
                    if (writer.epoch() % CHECKPOINT_EVERY == 0) {
                        writer.checkpoint();
                    }
                    longestCommitNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    epoch.set(writer.epoch());
                }
                writer.close();
            } catch (final Throwable e) {
                failure.set(e);
            }
        }, "writer");
        writing.start();
        final Random random = new Random(5);
        try {
            for (int kill = 0; kill < 5; kill++) {
                final Process reader = ChildJvm.start(List.of("-Xmx128m"), true, ReaderLoop.class, dir.toString());
                final BlockingQueue<String> lines = pump(reader);
                assertEquals("ready", lines.poll(60, TimeUnit.SECONDS), () -> "reader did not start: "
                    + stderr(reader));
                Thread.sleep(50 + random.nextInt(400)); // somewhere in its refresh-and-read loop
                reader.destroyForcibly().waitFor();
                final long atKill = epoch.get();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (epoch.get() < atKill + 50 && failure.get() == null && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertNull(failure.get(), "the writer failed");
                assertTrue(epoch.get() >= atKill + 50, "kill " + kill + ": the writer stalled at epoch " + epoch.get());
            }
        } finally {
            stop.set(true);
            writing.join(TimeUnit.MINUTES.toMillis(2));
        }
        assertFalse(writing.isAlive(), "the writer did not finish");
        assertNull(failure.get(), () -> "the writer failed: " + failure.get());
        assertTrue(longestCommitNanos.get() < TimeUnit.SECONDS.toNanos(10),
            "a commit took " + longestCommitNanos.get() / 1_000_000 + " ms (a hang, not a timing)");
        // Closed cleanly (no recovery), and every commit is whole and intact.
        try (CorruptionMatrixTest.StderrCapture log = new CorruptionMatrixTest.StderrCapture()) {
            try (ActivationStore store = ActivationStore.open(dir, OPTIONS)) {
                assertEquals(epoch.get(), store.epoch());
                assertEquals(List.of(), SelfDescribingWorkload.check(store));
                store.verify();
            }
            assertFalse(log.text().contains("WARN"), log.text());
        }
    }

    /**
     * What a reader holding a stale view sees once a checkpoint has deleted the file under it: chunks it mapped
     * stay readable and unchanged (Linux keeps an unlinked file while it is mapped); anything it has not mapped
     * fails with {@link StaleColumnException} telling it to refresh; never another column's bytes, since column
     * ids are never reused. Without a checkpoint in between, the old file is still there and stale views read
     * their committed values.
     */
    @Test
    void shouldServeAStaleViewFromItsMappingOrFailTellingTheReaderToRefresh() {
        final Path dir = tmp.resolve("store");
        final StoreOptions small = OPTIONS.toBuilder().chunkSize(StoreOptions.MIN_CHUNK_SIZE).build();
        final Tensor big = TestData.random(DType.F32, Shape.of(64, 1024), 1); // 4 chunks of 64 KiB
        final Tensor other = TestData.random(DType.I64, Shape.of(8, 8), 2);
        try (ActivationStore writer = ActivationStore.create(dir, small);
             ActivationStore reader = ActivationStore.openReadOnly(dir, small)) {
            writer.put("big", big);
            writer.put("other", other);
            writer.put("kept", other);
            assertTrue(reader.refresh());
            final TensorView bigView = reader.get("big");
            final TensorView firstChunk = bigView.rows(0, 16);
            final Tensor firstChunkCopy = copy(firstChunk); // maps chunk 0 only
            final TensorView otherView = reader.get("other");
            final Tensor otherCopy = copy(otherView);

            // Replaced and removed, not yet checkpointed: the old files are still there.
            writer.put("big", TestData.random(DType.F32, Shape.of(2, 2), 3));
            writer.remove("other");
            assertTrue(otherView.contentEquals(otherCopy.view()));

            writer.checkpoint(); // deletes the files of the old "big" and of "other"
            assertTrue(firstChunk.contentEquals(firstChunkCopy.view()), "a mapped chunk outlives its file");
            assertTrue(otherView.contentEquals(otherCopy.view()), "so does a mapped small column");
            final StaleColumnException unmapped = assertThrows(StaleColumnException.class,
                () -> bigView.rows(32, 48).crc32c());
            assertTrue(unmapped.getMessage().contains("'big'") && unmapped.getMessage().contains("refresh()"),
                unmapped.getMessage());
            assertTrue(reader.contains("other"), "the reader still sees its epoch");

            // After refresh() a view taken before still reads its old values while its chunk stays mapped, or fails
            // the same way once the mapping is released; it never reads anything else.
            assertTrue(reader.refresh());
            assertOldValuesOrStale(firstChunk, firstChunkCopy);
            assertOldValuesOrStale(otherView, otherCopy);
            assertThrows(StaleColumnException.class, () -> bigView.rows(48, 64).crc32c());
            assertFalse(reader.contains("other"));
            assertEquals(Shape.of(2, 2), reader.get("big").shape());
            assertTrue(reader.get("kept").contentEquals(other.view()));
        }
    }

    private static void assertOldValuesOrStale(final TensorView view, final Tensor old) {
        try {
            assertTrue(view.contentEquals(old.view()), "a stale view read other values");
        } catch (final StaleColumnException e) {
            assertTrue(e.getMessage().contains("refresh()"), e.getMessage());
        }
    }

    private static Tensor copy(final TensorView view) {
        final Tensor copy = Tensor.allocate(view.dtype(), view.shape());
        view.copyTo(copy, 0);
        return copy;
    }

    private static BlockingQueue<String> pump(final Process child) {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Thread thread = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    lines.add(line);
                }
            } catch (final java.io.IOException e) {
                // The child was killed.
            }
        });
        thread.setDaemon(true);
        thread.start();
        return lines;
    }

    private static Map<String, Long> summary(final List<String> output, final String report) {
        final String line = output.stream().filter(l -> l.startsWith("summary ")).findFirst()
            .orElseThrow(() -> new AssertionError("no summary: " + report));
        final Map<String, Long> values = new HashMap<>();
        for (final String pair : line.substring("summary ".length()).split(" ")) {
            final String[] parts = pair.split("=");
            values.put(parts[0], Long.parseLong(parts[1]));
        }
        return Collections.unmodifiableMap(values);
    }

    private static String stderr(final Process child) {
        try {
            return new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (final java.io.IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    /**
     * Child: opens the store read-only and loops {@code refresh()} + {@link SelfDescribingWorkload#check} until a
     * line {@code stop <epoch>} arrives on stdin; then refreshes once more, checks that final epoch, and prints
     * {@code summary refreshes=.. newEpochs=.. checks=.. stale=.. violations=.. firstEpoch=.. lastEpoch=..
     * finalEpoch=..}. Each violation is printed (the first 20) as {@code violation ...}. A
     * {@link StaleColumnException} (a file collected under the reader's epoch) is counted, not a violation: the
     * next refresh moves past it.
     */
    public static final class ReaderLoop {
        public static void main(final String[] args) throws Exception {
            final AtomicLong stopAt = new AtomicLong(-1);
            final Thread stdin = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (line.startsWith("stop ")) {
                            stopAt.set(Long.parseLong(line.substring(5)));
                        }
                    }
                } catch (final java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            stdin.setDaemon(true);
            stdin.start();
            long refreshes = 0;
            long newEpochs = 0;
            long checks = 0;
            long stale = 0;
            long violations = 0;
            try (ActivationStore reader = ActivationStore.openReadOnly(Path.of(args[0]))) {
                final long firstEpoch = reader.epoch();
                System.out.println("ready");
                System.out.flush();
                while (stopAt.get() < 0) {
                    try {
                        refreshes++;
                        if (reader.refresh()) {
                            newEpochs++;
                        }
                        final List<String> wrong = SelfDescribingWorkload.check(reader);
                        checks++;
                        for (final String problem : wrong) {
                            if (violations++ < 20) {
                                System.out.println("violation " + problem);
                            }
                        }
                    } catch (final StaleColumnException e) {
                        stale++;
                    } catch (final RuntimeException e) {
                        if (violations++ < 20) {
                            System.out.println("violation at epoch " + reader.epoch() + ": " + e);
                            e.printStackTrace();
                        }
                    }
                }
                final long lastEpoch = reader.epoch();
                reader.refresh();
                final List<String> wrong = SelfDescribingWorkload.check(reader);
                for (final String problem : wrong) {
                    violations++;
                    System.out.println("violation after stop: " + problem);
                }
                System.out.println("summary refreshes=" + refreshes + " newEpochs=" + newEpochs + " checks=" + checks
                    + " stale=" + stale + " violations=" + violations + " firstEpoch=" + firstEpoch + " lastEpoch="
                    + lastEpoch + " finalEpoch=" + reader.epoch());
                System.out.flush();
            }
        }
    }
}
