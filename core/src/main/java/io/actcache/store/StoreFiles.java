package io.actcache.store;

import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The layout of a store directory and the file operations every part of the store shares: atomic replacement
 * (temp file, force, rename, directory force) and directory forcing.
 */
public final class StoreFiles {
    /** Format version and creation options. */
    public static final String PROPERTIES = "actcache.properties";
    /** Checkpoint of every key's descriptor. */
    public static final String MANIFEST = "manifest.json";
    /** Redo log since the checkpoint. */
    public static final String JOURNAL = "journal";
    /** The writer's derived Chronicle Map index. */
    public static final String INDEX = "index.cmap";
    /** Directory of column files. */
    public static final String COLUMNS = "columns";
    /** Single-writer lock file. */
    public static final String LOCK = "lock";
    /** Pid of the lock holder; present only while a writer has the store open. */
    public static final String LOCK_PID = "lock.pid";
    /** Extension of RAW DENSE column files. */
    public static final String NPY_EXTENSION = ".npy";
    /** Extension of LIST column data files. */
    public static final String LIST_EXTENSION = ".list";
    /** Extension of LIST column item tables. */
    public static final String ITEMS_EXTENSION = ".items";
    /** Extension of column checksum files. */
    public static final String CHECKSUM_EXTENSION = ".crc";
    /** Extension of block-compressed column data files (LZ4, SHUFFLE_LZ4). */
    public static final String BLOCKS_EXTENSION = ".blk";
    /** Extension of block-compressed column block indexes. */
    public static final String BLOCK_INDEX_EXTENSION = ".bix";

    private StoreFiles() {
    }

    /**
     * @param dir      store directory.
     * @param columnId column id.
     * @return the column's file.
     */
    public static Path columnFile(final Path dir, final long columnId) {
        return dir.resolve(COLUMNS).resolve(columnFileName(columnId));
    }

    /**
     * @param columnId column id.
     * @return the file name relative to {@code columns/}.
     */
    public static String columnFileName(final long columnId) {
        return columnId + NPY_EXTENSION;
    }

    /**
     * @param fileName a name in {@code columns/}.
     * @return the column id it names, or -1 when it is not a column file name.
     */
    public static long columnIdOf(final String fileName) {
        final int dot = fileName.indexOf('.');
        if (dot <= 0) {
            return -1;
        }
        final String extension = fileName.substring(dot);
        if (!extension.equals(NPY_EXTENSION) && !extension.equals(LIST_EXTENSION)
            && !extension.equals(ITEMS_EXTENSION) && !extension.equals(CHECKSUM_EXTENSION)
            && !extension.equals(BLOCKS_EXTENSION) && !extension.equals(BLOCK_INDEX_EXTENSION)) {
            return -1;
        }
        final String digits = fileName.substring(0, dot);
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(digits);
    }

    /**
     * Replaces {@code target} atomically with {@code content}: writes a temp file, forces it, renames it over
     * the target and forces the directory, so a crash leaves either the old or the new file whole.
     *
     * @param target  file to replace.
     * @param content bytes to write.
     * @param force   whether to force file and directory (false for durability NONE).
     */
    public static void replaceAtomically(final Path target, final ByteBuffer content, final boolean force) {
        replaceAtomically(FileLayer.system(), target, content, force);
    }

    /**
     * {@link #replaceAtomically(Path, ByteBuffer, boolean)} through a file layer.
     *
     * @param layer   the store's file layer.
     * @param target  file to replace.
     * @param content bytes to write.
     * @param force   whether to force file and directory.
     */
    static void replaceAtomically(final FileLayer layer, final Path target, final ByteBuffer content,
        final boolean force) {
        final Path temp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            try (FileChannel channel = layer.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
                while (content.hasRemaining()) {
                    channel.write(content);
                }
                if (force) {
                    channel.force(true);
                }
            }
            try {
                layer.moveAtomically(temp, target);
            } catch (final AtomicMoveNotSupportedException e) {
                throw new StoreIOException("cannot replace " + target + " atomically: " + e.getMessage(), e);
            }
            if (force) {
                forceDirectory(layer, target.getParent());
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot write " + target + ": " + e, e);
        }
    }

    /**
     * Forces a directory's entries (new, renamed or deleted files) to the device.
     *
     * @param dir the directory.
     */
    public static void forceDirectory(final Path dir) {
        forceDirectory(FileLayer.system(), dir);
    }

    /**
     * {@link #forceDirectory(Path)} through a file layer.
     *
     * @param layer the store's file layer.
     * @param dir   the directory.
     */
    static void forceDirectory(final FileLayer layer, final Path dir) {
        try {
            layer.forceDirectory(dir);
        } catch (final IOException e) {
            throw new StoreIOException("cannot force directory " + dir + ": " + e, e);
        }
    }

    /**
     * Deletes a directory tree; used for in-memory stores and stale temporaries.
     *
     * @param dir the root to delete; missing is fine.
     */
    public static void deleteTree(final Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (final IOException e) {
                    throw new StoreIOException("cannot delete " + path + ": " + e, e);
                }
            });
        } catch (final IOException e) {
            throw new StoreIOException("cannot delete " + dir + ": " + e, e);
        }
    }
}
