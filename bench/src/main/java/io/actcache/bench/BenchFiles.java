package io.actcache.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Scratch directories for benchmarks: created under {@code java.io.tmpdir} (pass
 * {@code -jvmArgsAppend -Djava.io.tmpdir=DIR} to bench another disk) and deleted after use.
 */
public final class BenchFiles {
    private BenchFiles() {
    }

    /**
     * @param prefix name prefix.
     * @return a new empty directory under {@code java.io.tmpdir}.
     */
    public static Path newDirectory(final String prefix) {
        try {
            return Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), prefix);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot create a scratch directory under java.io.tmpdir: " + e, e);
        }
    }

    /**
     * @param prefix  name prefix.
     * @param storage {@value #DISK} for {@code java.io.tmpdir}, {@value #MEMORY} for {@code /dev/shm} (tmpfs: the
     *                same code paths with no device behind them, to separate our costs from the disk's).
     * @return a new empty directory there.
     */
    public static Path newDirectory(final String prefix, final String storage) {
        if (DISK.equals(storage)) {
            return newDirectory(prefix);
        }
        if (!MEMORY.equals(storage)) {
            throw new IllegalArgumentException("storage must be " + DISK + " or " + MEMORY + ", not " + storage);
        }
        try {
            return Files.createTempDirectory(Path.of("/dev/shm"), prefix);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot create a scratch directory under /dev/shm: " + e, e);
        }
    }

    /** Storage parameter value: files under {@code java.io.tmpdir}. */
    public static final String DISK = "disk";
    /** Storage parameter value: files under {@code /dev/shm}. */
    public static final String MEMORY = "memory";

    /**
     * Checks free space before a benchmark writes a large store.
     *
     * @param dir   where the data goes.
     * @param bytes bytes about to be written; a quarter more is kept free.
     * @throws IllegalStateException naming both figures when the disk is too small.
     */
    public static void requireFreeSpace(final Path dir, final long bytes) {
        try {
            final long usable = Files.getFileStore(dir).getUsableSpace();
            if (usable < bytes + bytes / 4) {
                throw new IllegalStateException(dir + " has " + (usable >> 20) + " MiB free, the benchmark needs "
                    + ((bytes + bytes / 4) >> 20) + " MiB: choose a smaller size with -p, or another java.io.tmpdir");
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read free space of " + dir + ": " + e, e);
        }
    }

    /**
     * Forces every file directly in {@code dir} to the device, so a later page-cache drop finds them clean and
     * their write-back does not disturb what is measured next.
     *
     * @param dir a directory of files.
     */
    public static void forceFiles(final Path dir) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, Files::isRegularFile)) {
            for (final Path file : files) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    channel.force(true);
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot force the files in " + dir + ": " + e, e);
        }
    }

    /**
     * Writes back every dirty page of the file system holding {@code dir} with one {@code sync --file-system}
     * (syncfs), far faster than forcing thousands of files one by one; falls back to {@link #forceFiles} of
     * {@code dir} where that command is missing or fails.
     *
     * @param dir a directory whose files must be clean afterwards.
     */
    public static void syncFileSystem(final Path dir) {
        try {
            final Process sync = new ProcessBuilder("sync", "--file-system", dir.toString()).inheritIO().start();
            if (sync.waitFor() == 0) {
                return;
            }
        } catch (final IOException e) {
            // No sync command: force the files below instead.
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        forceFiles(dir);
    }

    /**
     * Deletes a directory tree; a missing directory is fine.
     *
     * @param dir the directory.
     */
    public static void deleteTree(final Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(final Path file, final BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(final Path directory, final IOException e)
                    throws IOException {
                    if (e != null) {
                        throw e;
                    }
                    Files.delete(directory);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e, e);
        }
    }
}
