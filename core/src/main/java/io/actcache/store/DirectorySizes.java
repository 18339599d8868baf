package io.actcache.store;

import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The apparent size of every regular file of a store: the files in its directory and in {@code columns/}, named
 * relative to the store ({@code "manifest.json"}, {@code "columns/7.npy"}). What compaction measures before and
 * after, so that its report gives real file sizes rather than the store's own accounting.
 */
final class DirectorySizes {
    private DirectorySizes() {
    }

    /**
     * @param dir a store directory.
     * @return every file's size by relative name, sorted.
     */
    static Map<String, Long> of(final Path dir) {
        final Map<String, Long> sizes = new TreeMap<>();
        addFiles(dir, "", sizes);
        addFiles(dir.resolve(StoreFiles.COLUMNS), StoreFiles.COLUMNS + "/", sizes);
        return sizes;
    }

    /**
     * @param sizes sizes by name.
     * @return their sum.
     */
    static long total(final Map<String, Long> sizes) {
        long total = 0;
        for (final long size : sizes.values()) {
            total += size;
        }
        return total;
    }

    private static void addFiles(final Path dir, final String prefix, final Map<String, Long> sizes) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (final Path file : files) {
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                try {
                    sizes.put(prefix + file.getFileName(), Files.size(file));
                } catch (final NoSuchFileException e) {
                    // Deleted between the listing and the stat: it no longer takes space.
                }
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot list " + dir + ": " + e, e);
        }
    }
}
