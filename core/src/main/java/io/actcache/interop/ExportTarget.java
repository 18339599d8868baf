package io.actcache.interop;

import io.actcache.ExportTargetExistsException;
import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The directory an export writes: built complete in a hidden sibling directory, then renamed into place, so the
 * target holds either its old content or the whole new export, never a half-written one.
 *
 * <p>An existing target is refused unless replacing was asked for, and even then only when every file in it is one
 * an export writes ({@code .safetensors}, {@code .npy}, {@code .json}): {@code --force} on a home directory or a
 * store must not delete it. On {@link #commit()} the new directory's files and entries are forced, the old target is
 * renamed aside, the new one renamed in, the parent forced, and the old one deleted. {@link #close()} without a
 * commit deletes the partial export. One thread only.
 */
final class ExportTarget implements AutoCloseable {
    private static final String[] EXPORT_EXTENSIONS = {".safetensors", ".npy", ".json"};

    private final Path target;
    private final Path staging;
    private boolean committed;

    private ExportTarget(final Path target, final Path staging) {
        this.target = target;
        this.staging = staging;
    }

    /**
     * Checks the target and creates the staging directory beside it.
     *
     * @param target  the directory the export becomes.
     * @param force   whether an existing target may be replaced.
     * @param avoid   a directory the target must not lie in (the store exported), or null.
     * @return the prepared target.
     * @throws ExportTargetExistsException when the target exists and may not, or must not, be replaced.
     * @throws IllegalArgumentException    when the target lies inside {@code avoid}.
     */
    static ExportTarget prepare(final Path target, final boolean force, final Path avoid) {
        final Path absolute = target.toAbsolutePath().normalize();
        if (avoid != null && absolute.startsWith(avoid.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException(target + ": an export target must not lie inside the store " + avoid
                + " it exports");
        }
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (!force) {
                throw new ExportTargetExistsException(target + " already exists; choose another target or replace it "
                    + "with --force");
            }
            checkReplaceable(absolute, target);
        }
        final Path parent = absolute.getParent();
        final Path staging = parent.resolve("." + absolute.getFileName() + ".export-"
            + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
        try {
            Files.createDirectories(parent);
            Files.createDirectory(staging);
        } catch (final IOException e) {
            throw new StoreIOException(target + ": cannot create the export directory " + staging + ": " + e, e);
        }
        return new ExportTarget(absolute, staging);
    }

    /** @return the directory to write into until {@link #commit()}. */
    Path directory() {
        return staging;
    }

    /** @return the final directory. */
    Path target() {
        return target;
    }

    /**
     * Forces the staged export and renames it into place, replacing an old target (checked by {@link #prepare}).
     */
    void commit() {
        final Path parent = target.getParent();
        Path old = null;
        try {
            forceTree(staging);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                old = parent.resolve("." + target.getFileName() + ".replaced-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            moveInto(old);
            committed = true;
            forceDirectory(parent);
        } catch (final IOException e) {
            throw new StoreIOException(target + ": cannot move the finished export into place: " + e, e);
        }
        try {
            if (old != null) {
                deleteTree(old);
            }
        } catch (final IOException e) {
            throw new StoreIOException(target + ": the export is in place, but its old content, moved aside to "
                + old + ", cannot be deleted: " + e, e);
        }
    }

    /** Renames the staged export to the target; when that fails, the old content, if any, is moved back. */
    private void moveInto(final Path old) throws IOException {
        try {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (final IOException e) {
            if (old != null) {
                try {
                    Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (final IOException restore) {
                    e.addSuppressed(restore);
                    throw new IOException(e + "; the old export could not be moved back either and is at " + old, e);
                }
            }
            throw e;
        }
    }

    /** Deletes the staged export unless committed. Idempotent. */
    @Override
    public void close() {
        if (!committed) {
            committed = true;
            try {
                deleteTree(staging);
            } catch (final IOException e) {
                throw new StoreIOException(staging + ": cannot delete an unfinished export: " + e, e);
            }
        }
    }

    private static void checkReplaceable(final Path absolute, final Path target) {
        try (Stream<Path> files = Files.walk(absolute)) {
            final Optional<Path> foreign = files.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                .filter(p -> !isExportFile(p)).findFirst();
            if (foreign.isPresent()) {
                throw new ExportTargetExistsException(target + " exists and holds " + foreign.get() + ", which no "
                    + "export writes; refusing to replace it even with --force (remove it yourself if you mean to)");
            }
        } catch (final IOException e) {
            throw new StoreIOException(target + ": cannot inspect the existing target: " + e, e);
        }
    }

    private static boolean isExportFile(final Path path) {
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        final String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        for (final String extension : EXPORT_EXTENSIONS) {
            if (name.endsWith(extension)) {
                return true;
            }
        }
        return false;
    }

    private static void forceTree(final Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (final Path path : (Iterable<Path>) paths::iterator) {
                if (Files.isDirectory(path)) {
                    forceDirectory(path);
                } else {
                    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                        channel.force(true);
                    }
                }
            }
        }
    }

    private static void forceDirectory(final Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static void deleteTree(final Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (final Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
