package io.actcache.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/** Test {@link FileLayer}: the system's files; a test overrides the one operation it makes fail or hooks. */
class DelegatingFileLayer implements FileLayer {
    private final FileLayer system = FileLayer.system();

    @Override
    public FileChannel open(final Path file, final OpenOption... options) throws IOException {
        return system.open(file, options);
    }

    @Override
    public void moveAtomically(final Path source, final Path target) throws IOException {
        system.moveAtomically(source, target);
    }

    @Override
    public boolean deleteIfExists(final Path file) throws IOException {
        return system.deleteIfExists(file);
    }

    @Override
    public void createDirectories(final Path dir) throws IOException {
        system.createDirectories(dir);
    }

    @Override
    public void forceDirectory(final Path dir) throws IOException {
        system.forceDirectory(dir);
    }

    @Override
    public void force(final Path file) throws IOException {
        system.force(file);
    }

    @Override
    public void mappedForWriting(final Path file) {
        system.mappedForWriting(file);
    }
}
