package io.actcache.store;

import io.actcache.StoreIOException;
import io.actcache.StoreLockedException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The single-writer lock of a store: an OS file lock on {@code lock}, held for the writer's life, and the
 * holder's pid in {@code lock.pid}. {@code lock.pid} is deleted on a clean close, so finding it when taking the
 * lock means the last writer died: the store then recovers.
 *
 * <p>Design note: POSIX locks belong to the process and are dropped when any channel on the file closes, so one
 * registry per JVM hands out the lock; a second writer in the same JVM is refused by the registry, never by
 * opening and closing a second channel.
 */
final class StoreLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, StoreLock> HELD = new ConcurrentHashMap<>();

    private final Path key;
    private final FileLayer layer;
    private final Path pidFile;
    /** Holds the lock: closing it releases the lock. */
    private final FileChannel channel;
    private final boolean previousOwnerDied;
    private boolean released;

    private StoreLock(final Path key, final FileLayer layer, final Path pidFile, final FileChannel channel,
        final boolean previousOwnerDied) {
        this.key = key;
        this.layer = layer;
        this.pidFile = pidFile;
        this.channel = channel;
        this.previousOwnerDied = previousOwnerDied;
    }

    /**
     * Takes the lock or fails at once.
     *
     * @param layer   the store's file layer.
     * @param dir     store directory.
     * @param durable whether to force {@code lock.pid} and its directory entry to the device before returning, so
     *                that a power loss while the store is open is seen as an unclean shutdown (false only for
     *                stores deleted on close).
     * @return the held lock.
     * @throws StoreLockedException naming the lock file and holder pid when another writer holds it.
     */
    static StoreLock acquire(final FileLayer layer, final Path dir, final boolean durable) {
        final Path key = canonical(dir);
        final Path lockFile = dir.resolve(StoreFiles.LOCK);
        final Path pidFile = dir.resolve(StoreFiles.LOCK_PID);
        final StoreLock[] created = new StoreLock[1];
        HELD.compute(key, (path, existing) -> {
            if (existing != null) {
                throw new StoreLockedException("store " + dir + " is already open for writing in this process (pid "
                    + ProcessHandle.current().pid() + "); lock " + lockFile);
            }
            created[0] = lockFile(key, layer, lockFile, pidFile, durable);
            return created[0];
        });
        return created[0];
    }

    /** @return true when the previous writer did not close the store (its {@code lock.pid} was left behind). */
    boolean previousOwnerDied() {
        return previousOwnerDied;
    }

    /** Deletes {@code lock.pid} (the clean-close mark) and releases the lock. Idempotent. */
    @Override
    public void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            layer.deleteIfExists(pidFile);
        } catch (final IOException e) {
            throw new StoreIOException("cannot delete " + pidFile + " (the store will open as after a crash): " + e, e);
        } finally {
            // Released whatever happened above: the registry must never say "held" for a lock nobody holds.
            try {
                channel.close(); // releases the lock with it
            } catch (final IOException ignored) {
                // The OS drops the lock with the descriptor regardless.
            }
            HELD.remove(key);
        }
    }

    /** Releases the lock but leaves {@code lock.pid}, as a crash would; for failure paths. */
    void abandon() {
        if (released) {
            return;
        }
        released = true;
        try {
            channel.close();
        } catch (final IOException ignored) {
            // Already failing; the OS drops the lock with the channel regardless.
        } finally {
            HELD.remove(key);
        }
    }

    private static StoreLock lockFile(final Path key, final FileLayer layer, final Path lockFile, final Path pidFile,
        final boolean durable) {
        FileChannel channel = null;
        try {
            channel = layer.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
            final FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (final OverlappingFileLockException e) {
                throw new StoreLockedException("lock " + lockFile + " is held by this process (pid "
                    + ProcessHandle.current().pid() + ")");
            }
            if (lock == null) {
                throw new StoreLockedException("lock " + lockFile + " is held by another writer, pid "
                    + readPid(pidFile) + " (from " + pidFile + ")");
            }
            final boolean previousOwnerDied = Files.exists(pidFile);
            writePid(layer, pidFile, durable);
            final StoreLock result = new StoreLock(key, layer, pidFile, channel, previousOwnerDied);
            channel = null;
            return result;
        } catch (final IOException e) {
            throw new StoreIOException("cannot take lock " + lockFile + ": " + e, e);
        } finally {
            if (channel != null) {
                try {
                    channel.close();
                } catch (final IOException ignored) {
                    // Already failing.
                }
            }
        }
    }

    /**
     * Writes {@code lock.pid}. Forced with its directory entry when durable: the index and the NPY headers are
     * written unforced, so only a durable mark lets the next open tell a power loss from a clean close.
     */
    private static void writePid(final FileLayer layer, final Path pidFile, final boolean durable)
        throws IOException {
        final ByteBuffer pid =
            ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII));
        try (FileChannel channel = layer.open(pidFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            while (pid.hasRemaining()) {
                channel.write(pid);
            }
            if (durable) {
                channel.force(true);
            }
        }
        if (durable) {
            layer.forceDirectory(pidFile.getParent());
        }
    }

    private static String readPid(final Path pidFile) {
        try {
            final String text = new String(Files.readAllBytes(pidFile), StandardCharsets.US_ASCII).trim();
            return text.isEmpty() ? "unknown (empty " + StoreFiles.LOCK_PID + ")" : text;
        } catch (final IOException e) {
            return "unknown (" + StoreFiles.LOCK_PID + " unreadable: " + e.getMessage() + ")";
        }
    }

    private static Path canonical(final Path dir) {
        try {
            return dir.toRealPath();
        } catch (final IOException e) {
            return dir.toAbsolutePath().normalize();
        }
    }
}
