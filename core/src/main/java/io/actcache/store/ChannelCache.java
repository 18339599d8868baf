package io.actcache.store;

import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The writer's bounded set of open column files, least recently used closed first, so a store of any number
 * of keys holds at most {@link StoreOptions#maxOpenFiles()} descriptors. One thread only.
 */
final class ChannelCache implements AutoCloseable {
    private final FileLayer layer;
    private final int maxOpen;
    private final LinkedHashMap<Path, FileChannel> channels = new LinkedHashMap<>(16, 0.75f, true);

    ChannelCache(final FileLayer layer, final int maxOpen) {
        this.layer = layer;
        this.maxOpen = maxOpen;
    }

    /**
     * @param file   a column file.
     * @param create whether to create the file (a new column) rather than require it.
     * @return an open read-write channel.
     */
    FileChannel channel(final Path file, final boolean create) {
        FileChannel channel = channels.get(file);
        if (channel != null) {
            return channel;
        }
        try {
            channel = create
                ? layer.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : layer.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (final IOException e) {
            throw new StoreIOException("cannot open column file " + file + ": " + e, e);
        }
        channels.put(file, channel);
        final Iterator<FileChannel> eldest = channels.values().iterator();
        while (channels.size() > maxOpen && eldest.hasNext()) {
            final FileChannel old = eldest.next();
            if (old != channel) {
                eldest.remove();
                closeChannel(old);
            }
        }
        return channel;
    }

    /**
     * Closes a file's channel if open.
     *
     * @param file the file.
     */
    void invalidate(final Path file) {
        final FileChannel channel = channels.remove(file);
        if (channel != null) {
            closeChannel(channel);
        }
    }

    /** @return channels open now. */
    int openFiles() {
        return channels.size();
    }

    /** Closes every channel. Idempotent. */
    @Override
    public void close() {
        final List<FileChannel> all = new ArrayList<>(channels.values());
        channels.clear();
        StoreIOException failure = null;
        for (final FileChannel channel : all) {
            try {
                channel.close();
            } catch (final IOException e) {
                if (failure == null) {
                    failure = new StoreIOException("cannot close a column file: " + e, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static void closeChannel(final FileChannel channel) {
        try {
            channel.close();
        } catch (final IOException e) {
            throw new StoreIOException("cannot close a column file: " + e, e);
        }
    }
}
