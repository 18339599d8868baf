package io.actcache.store;

import io.actcache.testing.ChildJvm;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a child JVM that commits to a store in a loop, printing {@code acked <epoch>} after each commit returns
 * and {@code phase <name>} as its crash-point hook opens each window, and SIGKILLs it inside a chosen phase.
 * Shared by the crash tests of raw and compressed columns.
 */
final class KilledChild {
    private KilledChild() {
    }

    /**
     * Starts {@code main} on {@code dir} and kills it in the {@code skip + 1}-th window of {@code target}.
     *
     * @param main          the child's main class; it takes the store directory as its only argument.
     * @param dir           the store directory.
     * @param windowMillis  how long the child holds each crash window open.
     * @param target        the phase to die in.
     * @param skip          windows of that phase to let pass first.
     * @param round         the caller's round, for messages.
     * @return the last epoch the child acknowledged before it died, or -1.
     * @throws Exception when the child cannot be started or waited for; {@link AssertionError} when it never
     *                   reaches the phase within 90 s, with its stderr.
     */
    static long runUntilKilled(final Class<?> main, final Path dir, final long windowMillis,
        final CrashPoints.Phase target, final int skip, final int round) throws Exception {
        final Process child = ChildJvm.start(List.of("-Xmx256m",
            "-Dactcache.test.crashWindowMillis=" + windowMillis), true, main, dir.toString());
        final AtomicLong acked = new AtomicLong(-1);
        final BlockingQueue<String> phasesSeen = new LinkedBlockingQueue<>();
        final Thread reader = new Thread(() -> readChild(child, acked, phasesSeen));
        reader.start();
        int seen = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        boolean killed = false;
        while (!killed) {
            final String line = phasesSeen.poll(1, TimeUnit.SECONDS);
            if (System.nanoTime() > deadline || (line == null && !child.isAlive())) {
                child.destroyForcibly().waitFor();
                throw new AssertionError("round " + round + ": child never reached phase " + target
                    + " (alive " + child.isAlive() + ", acked " + acked.get() + ")\n" + stderr(child));
            }
            if (line != null && line.equals(target.name()) && seen++ >= skip) {
                child.destroyForcibly();
                killed = true;
            }
        }
        child.waitFor();
        reader.join();
        return acked.get();
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

    private static String stderr(final Process child) {
        try {
            return new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (final java.io.IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }
}
