package io.actcache.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Test helper: a text listing of every file in a directory with its size and CRC32C, to assert that an
 * operation left a store byte-for-byte unchanged.
 */
public final class DirectorySnapshot {
    private DirectorySnapshot() {
    }

    /**
     * @param dir a directory.
     * @return one line per regular file below it: relative path, size, CRC32C; sorted.
     * @throws IOException when listing or reading fails.
     */
    public static String of(final Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).sorted().map(file -> {
                try {
                    final CRC32C crc = new CRC32C();
                    crc.update(Files.readAllBytes(file));
                    return dir.relativize(file) + " " + Files.size(file) + " " + Long.toHexString(crc.getValue());
                } catch (final IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).collect(Collectors.joining("\n"));
        }
    }
}
