package io.actcache.store;

import io.actcache.StoreIOException;
import io.actcache.StoreLockedException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One writer per store, across processes and threads: a second writer (another JVM, or another thread of this
 * one) fails at once with {@link StoreLockedException} naming the lock file and the holder's pid from
 * {@code lock.pid}, and disturbs neither the holder nor its lock.
 */
class WriterLockTest {
    @TempDir
    Path tmp;

    private Path dir;

    @BeforeEach
    void createStore() {
        dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            store.append("resid", TestData.random(DType.F32, Shape.of(4, 8), 1));
        }
    }

    @Test
    void shouldRefuseAWriterInAnotherProcessNamingTheLockFileAndThisProcessAsHolder() throws Exception {
        final long pid = ProcessHandle.current().pid();
        try (ActivationStore writer = ActivationStore.open(dir)) {
            final ChildJvm.Result child = ChildJvm.run(List.of("-Xmx64m"), true, 120, OpenAndHold.class,
                dir.toString());
            assertEquals(1, child.exitCode(), child.describe());
            assertTrue(child.stderr().contains(StoreLockedException.class.getName() + ": lock "
                + dir.resolve(StoreFiles.LOCK) + " is held by another writer, pid " + pid + " (from "
                + dir.resolve(StoreFiles.LOCK_PID) + ")"), child.describe());
            assertFalse(child.stdout().contains("holding"), child.describe());

            // The refused child left the holder's lock and pid file alone: it still commits and is still the holder.
            assertEquals(Long.toString(pid), Files.readString(dir.resolve(StoreFiles.LOCK_PID)).trim());
            writer.append("resid", TestData.random(DType.F32, Shape.of(2, 8), 2));
            final ChildJvm.Result again = ChildJvm.run(List.of("-Xmx64m"), true, 120, OpenAndHold.class,
                dir.toString());
            assertEquals(1, again.exitCode(), again.describe());
            assertTrue(again.stderr().contains("pid " + pid), again.describe());
        }
        assertFalse(Files.exists(dir.resolve(StoreFiles.LOCK_PID)), "a clean close removes lock.pid");
        try (ActivationStore writer = ActivationStore.open(dir)) {
            assertEquals(Shape.of(6, 8), writer.get("resid").shape());
        }
    }

    @Test
    void shouldRefuseThisProcessWhileAnotherProcessHoldsTheStoreAndOpenOnceItCloses() throws Exception {
        final Process holder = ChildJvm.start(List.of("-Xmx64m"), true, OpenAndHold.class, dir.toString());
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
             Writer in = new java.io.OutputStreamWriter(holder.getOutputStream(), StandardCharsets.UTF_8)) {
            final String line = out.readLine();
            assertEquals("holding " + holder.pid(), line, () -> "child said " + line + "\n" + stderr(holder));

            final StoreLockedException e = assertThrows(StoreLockedException.class, () -> ActivationStore.open(dir));
            assertEquals("lock " + dir.resolve(StoreFiles.LOCK) + " is held by another writer, pid " + holder.pid()
                + " (from " + dir.resolve(StoreFiles.LOCK_PID) + ")", e.getMessage());
            // Readers take no lock.
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                assertEquals(Shape.of(4, 8), reader.get("resid").shape());
            }
            assertThrows(StoreLockedException.class, () -> ActivationStore.open(dir), "still refused");

            in.write("append\n");
            in.flush();
            assertEquals("appended", out.readLine());
            in.write("close\n");
            in.flush();
            assertEquals("closed", out.readLine());
        }
        assertTrue(holder.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, holder.exitValue(), stderr(holder));
        try (CorruptionMatrixTest.StderrCapture log = new CorruptionMatrixTest.StderrCapture()) {
            try (ActivationStore writer = ActivationStore.open(dir)) {
                assertEquals(Shape.of(5, 8), writer.get("resid").shape());
                writer.verify();
            }
            assertFalse(log.text().contains("not closed cleanly"), "the child closed cleanly: " + log.text());
        }
    }

    @Test
    void shouldOpenAfterTheHoldingProcessIsKilledAndRecover() throws Exception {
        final Process holder = ChildJvm.start(List.of("-Xmx64m"), true, OpenAndHold.class, dir.toString());
        final BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
            StandardCharsets.UTF_8));
        assertEquals("holding " + holder.pid(), out.readLine(), () -> stderr(holder));
        assertThrows(StoreLockedException.class, () -> ActivationStore.open(dir));
        holder.destroyForcibly().waitFor();
        assertEquals(Long.toString(holder.pid()), Files.readString(dir.resolve(StoreFiles.LOCK_PID)).trim(),
            "a killed holder leaves its pid behind");
        try (CorruptionMatrixTest.StderrCapture log = new CorruptionMatrixTest.StderrCapture()) {
            try (ActivationStore writer = ActivationStore.open(dir)) {
                assertEquals(Shape.of(4, 8), writer.get("resid").shape());
                assertEquals(Long.toString(ProcessHandle.current().pid()),
                    Files.readString(dir.resolve(StoreFiles.LOCK_PID)).trim());
            }
            assertTrue(log.text().contains("not closed cleanly"), log.text());
        }
    }

    @Test
    void shouldLetALateCreatorFailWithoutTouchingTheStoreThatWonTheRace() throws Exception {
        // B checks that the directory is empty; before it writes anything, A creates the store there and commits.
        // B used to write its empty manifest and journal over A's before failing at the lock: A's commits were
        // lost. Now B takes the lock before writing and fails with nothing written.
        final Path raced = tmp.resolve("raced");
        final ActivationStore[] winner = new ActivationStore[1];
        final DelegatingFileLayer late = new DelegatingFileLayer() {
            @Override
            public void createDirectories(final Path path) throws java.io.IOException {
                if (winner[0] == null) {
                    winner[0] = ActivationStore.create(raced, StoreOptions.defaults());
                    winner[0].append("x", TestData.random(DType.F32, Shape.of(2), 1));
                }
                super.createDirectories(path);
            }
        };
        try {
            assertThrows(StoreLockedException.class,
                () -> ActivationStore.create(raced, StoreOptions.builder().fileLayer(late).build()));
            winner[0].append("y", TestData.random(DType.F32, Shape.of(2), 2));
            try (ActivationStore reader = ActivationStore.openReadOnly(raced)) {
                assertEquals(java.util.Set.of("x", "y"), java.util.Set.copyOf(reader.keys()));
            }
        } finally {
            if (winner[0] != null) {
                winner[0].close();
            }
        }
        try (ActivationStore reopened = ActivationStore.open(raced)) {
            assertEquals(java.util.Set.of("x", "y"), java.util.Set.copyOf(reopened.keys()));
        }
    }

    @Test
    void shouldReleaseTheLockWhenDeletingItsPidFileFails() {
        // Closing deleted lock.pid before releasing the lock; when the delete failed the lock stayed held while the
        // in-process registry forgot it, and every later open in this JVM was refused as "held by this process".
        final DelegatingFileLayer failingDelete = new DelegatingFileLayer() {
            @Override
            public boolean deleteIfExists(final Path file) throws java.io.IOException {
                if (file.getFileName().toString().equals(StoreFiles.LOCK_PID)) {
                    throw new java.io.IOException("Input/output error (injected)");
                }
                return super.deleteIfExists(file);
            }
        };
        final ActivationStore store = ActivationStore.open(dir, StoreOptions.builder().fileLayer(failingDelete)
            .build());
        store.append("resid", TestData.random(DType.F32, Shape.of(2, 8), 2));
        final StoreIOException e = assertThrows(StoreIOException.class, store::close);
        assertTrue(e.getMessage().contains(StoreFiles.LOCK_PID), e.getMessage());
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            assertEquals(Shape.of(6, 8), reopened.describe("resid").shape());
        }
    }

    @Test
    void shouldRefuseASecondWriterThreadNamingThisProcess() throws Exception {
        try (ActivationStore writer = ActivationStore.open(dir)) {
            final Throwable[] failure = new Throwable[1];
            final Thread second = new Thread(() -> {
                try {
                    ActivationStore.open(dir).close();
                } catch (final Throwable e) {
                    failure[0] = e;
                }
            });
            second.start();
            second.join();
            final StoreLockedException e = assertInstanceOf(StoreLockedException.class, failure[0]);
            assertTrue(e.getMessage().contains("already open for writing in this process (pid "
                + ProcessHandle.current().pid() + ")") && e.getMessage().contains(dir.resolve(StoreFiles.LOCK).toString()),
                e.getMessage());
            writer.append("resid", TestData.random(DType.F32, Shape.of(1, 8), 3));
        }
    }

    @Test
    void shouldLetExactlyOneOfManyRacingThreadsOpenTheStore() throws Exception {
        final int threads = 4;
        for (int round = 0; round < 20; round++) {
            final CyclicBarrier start = new CyclicBarrier(threads);
            final CountDownLatch opened = new CountDownLatch(1);
            final CountDownLatch release = new CountDownLatch(1);
            final AtomicInteger winners = new AtomicInteger();
            final AtomicInteger refused = new AtomicInteger();
            final List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            final List<Thread> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final Thread thread = new Thread(() -> {
                    try {
                        start.await();
                        try (ActivationStore store = ActivationStore.open(dir)) {
                            winners.incrementAndGet();
                            opened.countDown();
                            release.await(); // hold it until every other thread has tried
                        }
                    } catch (final StoreLockedException e) {
                        refused.incrementAndGet();
                    } catch (final Throwable e) {
                        unexpected.add(e);
                    }
                });
                all.add(thread);
                thread.start();
            }
            assertTrue(opened.await(60, TimeUnit.SECONDS), "round " + round + ": nobody opened the store");
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (refused.get() + unexpected.size() < threads - 1 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            release.countDown();
            for (final Thread thread : all) {
                thread.join();
            }
            assertEquals(List.of(), unexpected, "round " + round);
            assertEquals(1, winners.get(), "round " + round);
            assertEquals(threads - 1, refused.get(), "round " + round);
        }
        assertFalse(Files.exists(dir.resolve(StoreFiles.LOCK_PID)));
    }

    private static String stderr(final Process child) {
        try {
            return new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (final java.io.IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    /**
     * Child: opens the store for writing (an uncaught {@link StoreLockedException} exits 1 with its message on
     * stderr), prints {@code holding <pid>}, then obeys lines on stdin: {@code append}, {@code close}.
     */
    public static final class OpenAndHold {
        public static void main(final String[] args) throws Exception {
            final ActivationStore store = ActivationStore.open(Path.of(args[0]));
            System.out.println("holding " + ProcessHandle.current().pid());
            System.out.flush();
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.equals("append")) {
                    store.append("resid", TestData.random(DType.F32, Shape.of(1, 8), 4));
                    System.out.println("appended");
                } else if (line.equals("close")) {
                    store.close();
                    System.out.println("closed");
                    System.out.flush();
                    return;
                }
                System.out.flush();
            }
        }
    }
}
