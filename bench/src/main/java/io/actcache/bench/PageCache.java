package io.actcache.bench;

import com.sun.nio.file.ExtendedOpenOption;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Cold reads for the read baselines: dropping the kernel's page cache when this process may
 * ({@value #DROP_CACHES}, needs root), else reading around it with {@code O_DIRECT} ({@value #O_DIRECT}), and the
 * cold sequential read itself: a whole file read front to back with plain channel reads into one buffer.
 *
 * <p>Design note: {@value #DROP_CACHES} drops every clean page of the machine, so files must be forced first
 * (dirty pages stay). {@code O_DIRECT} bypasses the cache for the baseline only: a store's mapped reads always
 * go through the page cache, so a store can be read cold only after a drop (or when it is larger than RAM).
 */
public final class PageCache {
    /** Cold-read method: {@code echo 1 > /proc/sys/vm/drop_caches} before the read. */
    public static final String DROP_CACHES = "drop_caches";
    /** Cold-read method: {@code O_DIRECT} reads, which bypass the page cache. */
    public static final String O_DIRECT = "o_direct";
    /** Request size for {@code O_DIRECT} baseline reads, which get no kernel readahead. */
    public static final int DIRECT_REQUEST_BYTES = 16 << 20;
    /** Alignment of {@code O_DIRECT} buffers, file offsets and lengths: a page, a multiple of any block size. */
    public static final int ALIGNMENT = 4096;

    private static final Path DROP_FILE = Path.of("/proc/sys/vm/drop_caches");

    private PageCache() {
    }

    /**
     * @return {@value #DROP_CACHES} when this process can drop the page cache (tried once, harmless), else
     *     {@value #O_DIRECT}.
     */
    public static String coldReadMethod() {
        try {
            drop();
            return DROP_CACHES;
        } catch (final UncheckedIOException e) {
            return O_DIRECT;
        }
    }

    /**
     * Drops the machine's clean page cache.
     *
     * @throws UncheckedIOException naming the file when this process may not (not root).
     */
    public static void drop() {
        try {
            Files.writeString(DROP_FILE, "1\n", StandardCharsets.US_ASCII);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + DROP_FILE + " (needs root): " + e
                + "; use -p coldBy=" + O_DIRECT, e);
        }
    }

    /**
     * Makes the next read of files cold by the given method: drops the cache for {@value #DROP_CACHES}; nothing
     * for {@value #O_DIRECT}, whose reads bypass it.
     *
     * @param method {@value #DROP_CACHES} or {@value #O_DIRECT}.
     */
    public static void prepare(final String method) {
        if (DROP_CACHES.equals(method)) {
            drop();
        } else if (!O_DIRECT.equals(method)) {
            throw new IllegalArgumentException("cold-read method must be " + DROP_CACHES + " or " + O_DIRECT
                + ", not " + method);
        }
    }

    /**
     * @param file   a file.
     * @param method {@value #O_DIRECT} opens it with {@code O_DIRECT}; anything else normally.
     * @return a read channel.
     */
    public static FileChannel openForRead(final Path file, final String method) {
        try {
            return O_DIRECT.equals(method)
                ? FileChannel.open(file, StandardOpenOption.READ, ExtendedOpenOption.DIRECT)
                : FileChannel.open(file, StandardOpenOption.READ);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot open " + file + " for a " + method + " read: " + e, e);
        }
    }

    /**
     * @param bytes capacity, a multiple of {@value #ALIGNMENT}.
     * @return a direct buffer whose address is aligned for {@code O_DIRECT}, every page already touched.
     */
    public static ByteBuffer alignedBuffer(final int bytes) {
        if (bytes <= 0 || bytes % ALIGNMENT != 0) {
            throw new IllegalArgumentException("buffer size " + bytes + " is not a positive multiple of " + ALIGNMENT);
        }
        return ByteBuffer.allocateDirect(bytes + ALIGNMENT).alignedSlice(ALIGNMENT).limit(bytes).slice();
    }

    /**
     * The cold sequential-read baseline: reads the whole file from offset 0 in requests of the buffer's capacity.
     *
     * @param channel a channel from {@link #openForRead}.
     * @param buffer  from {@link #alignedBuffer}.
     * @param file    the file, for messages.
     * @return bytes read.
     */
    public static long readAll(final FileChannel channel, final ByteBuffer buffer, final Path file) {
        long position = 0;
        try {
            while (true) {
                buffer.clear();
                final int n = channel.read(buffer, position);
                if (n > 0) {
                    position += n;
                }
                if (n < buffer.capacity()) {
                    // A short read of a regular file is its end; O_DIRECT could not read on from an unaligned offset.
                    return position;
                }
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read " + file + " at " + position + ": " + e, e);
        }
    }
}
