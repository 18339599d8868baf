package io.actcache.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** The {@link FileLayer} every store uses outside tests: plain {@link FileChannel} and {@link Files} calls. */
final class SystemFileLayer implements FileLayer {
    static final SystemFileLayer INSTANCE = new SystemFileLayer();

    private SystemFileLayer() {
    }

    @Override
    public FileChannel open(final Path file, final OpenOption... options) throws IOException {
        return FileChannel.open(file, options);
    }

    @Override
    public void moveAtomically(final Path source, final Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public boolean deleteIfExists(final Path file) throws IOException {
        return Files.deleteIfExists(file);
    }

    @Override
    public void createDirectories(final Path dir) throws IOException {
        Files.createDirectories(dir);
    }

    @Override
    public void forceDirectory(final Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public void force(final Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    @Override
    public void mappedForWriting(final Path file) {
        // Nothing to do: only a recording layer in tests needs to know.
    }
}
