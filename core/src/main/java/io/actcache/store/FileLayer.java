package io.actcache.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * The one seam through which the store changes files: every channel it writes through (column, checksum, list
 * and item files, the journal, temp files, the lock files), every atomic rename, deletion, directory creation
 * and directory force. {@link #system()} calls {@link FileChannel} and {@link java.nio.file.Files} directly;
 * tests in this package substitute a layer, through {@code StoreOptions.Builder.fileLayer}, that records each
 * operation to check the commit order and to materialise what a power loss would leave.
 *
 * <p>Design note: reads (journal scans, mappings, {@code verify()}) go to the files directly, since they change
 * nothing. The Chronicle Map index is written through Chronicle's own mappings, which no layer can see; the
 * store announces each hand-over with {@link #mappedForWriting(Path)} and forces the index file through
 * {@link #force(Path)} before a clean close, so a test knows when the index content is unknown.
 */
interface FileLayer {
    /** @return the layer that calls the file system directly. */
    static FileLayer system() {
        return SystemFileLayer.INSTANCE;
    }

    /**
     * @param file    a file.
     * @param options as for {@link FileChannel#open(Path, OpenOption...)}.
     * @return an open channel; writes, truncations and forces go through it.
     * @throws IOException as {@link FileChannel#open(Path, OpenOption...)} does.
     */
    FileChannel open(Path file, OpenOption... options) throws IOException;

    /**
     * Renames {@code source} over {@code target} atomically (replacing it).
     *
     * @param source an existing file.
     * @param target the new name, in the same directory.
     * @throws IOException including {@link java.nio.file.AtomicMoveNotSupportedException}.
     */
    void moveAtomically(Path source, Path target) throws IOException;

    /**
     * @param file a file.
     * @return true when it existed and was deleted.
     * @throws IOException when it cannot be deleted.
     */
    boolean deleteIfExists(Path file) throws IOException;

    /**
     * Creates a directory and any missing parents.
     *
     * @param dir the directory.
     * @throws IOException when one cannot be created.
     */
    void createDirectories(Path dir) throws IOException;

    /**
     * Forces a directory's entries (created, renamed and deleted names) to the device.
     *
     * @param dir the directory.
     * @throws IOException when the force fails.
     */
    void forceDirectory(Path dir) throws IOException;

    /**
     * Forces a file the store did not write through a channel of this layer (the index) to the device.
     *
     * @param file an existing file.
     * @throws IOException when the force fails.
     */
    void force(Path file) throws IOException;

    /**
     * Announces that another library (Chronicle Map) is about to write {@code file} through its own mappings
     * until the next {@link #force(Path)} of it or its deletion. The system layer does nothing.
     *
     * @param file the file.
     */
    void mappedForWriting(Path file);
}
