package io.actcache.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Test {@link FileLayer}: performs every operation on the real files and records it, in order, with the bytes
 * written, so a test can check the commit order and {@link PowerLossImage materialise} what a power loss at any
 * operation boundary would leave. Files are tracked as nodes (inodes): a rename moves a node to a new name.
 * Files already under the root when recording starts are recorded first as durable. One thread only.
 */
final class RecordingFileLayer implements FileLayer {
    /** What an operation did. */
    enum Kind {
        /** A directory that existed, durably, when recording started. */
        EXISTING_DIR,
        /** A file that existed, durably, when recording started; {@code bytes} is its content. */
        EXISTING,
        /** A directory created. */
        MKDIR,
        /** A file created (a new node under {@code path}). */
        CREATE,
        /** Bytes written at {@code position}. */
        WRITE,
        /** A file cut to {@code position} bytes. */
        TRUNCATE,
        /** A file's content forced to the device ({@code position} 1 when metadata was forced too). */
        FORCE,
        /** A file renamed from {@code path} to {@code target}, replacing what {@code target} named. */
        RENAME,
        /** A name deleted. */
        DELETE,
        /** A directory's entries forced to the device. */
        FORCE_DIRECTORY,
        /** A file handed to another library that writes it through mappings: its content is unknown from now. */
        MAPPED,
        /** A mapped file forced to the device: {@code bytes} is its content then. */
        FORCE_MAPPED
    }

    /**
     * One recorded operation.
     *
     * @param kind     what it did.
     * @param path     the name, relative to the root ("" is the root; ".." paths lie outside it).
     * @param node     the file's node, -1 for directories.
     * @param position write offset, truncation length, or the metadata flag of a force.
     * @param bytes    bytes written, or a file's content.
     * @param target   the new name of a rename.
     * @param probe    the test's probe (e.g. the index's applied epoch) when the operation ran.
     */
    record Op(Kind kind, String path, int node, long position, byte[] bytes, String target, long probe) {
        /** @return true when this names a file in {@code columns/}. */
        boolean inColumns() {
            return path.startsWith(StoreFiles.COLUMNS + "/");
        }

        boolean is(final Kind expected, final String name) {
            return kind == expected && path.equals(name);
        }

        @Override
        public String toString() {
            final String detail = switch (kind) {
                case WRITE -> " @" + position + " +" + bytes.length;
                case TRUNCATE -> " to " + position;
                case RENAME -> " -> " + target;
                default -> "";
            };
            return kind + " " + (path.isEmpty() ? "." : path) + detail + (probe >= 0 ? " [probe " + probe + "]" : "");
        }
    }

    private final Path root;
    private final List<Op> ops = new ArrayList<>();
    private final Map<String, Integer> live = new HashMap<>();
    private final int existing;
    private int nextNode;
    private LongSupplier probe = () -> -1;

    /**
     * @param root the store directory; what it holds now is recorded as durable.
     */
    RecordingFileLayer(final Path root) {
        this.root = root.toAbsolutePath().normalize();
        if (Files.isDirectory(this.root)) {
            try (Stream<Path> paths = Files.walk(this.root)) {
                for (final Path path : (Iterable<Path>) paths.sorted()::iterator) {
                    final String name = relative(path);
                    if (Files.isDirectory(path)) {
                        record(Kind.EXISTING_DIR, name, -1, 0, null, null);
                    } else {
                        final int node = nextNode++;
                        live.put(name, node);
                        record(Kind.EXISTING, name, node, 0, Files.readAllBytes(path), null);
                    }
                }
            } catch (final IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        this.existing = ops.size();
    }

    /** @return the store directory. */
    Path root() {
        return root;
    }

    /**
     * Sets what each later operation records as its probe; a probe that throws records -1.
     *
     * @param value the probe.
     */
    void probe(final LongSupplier value) {
        this.probe = value;
    }

    /** @return the operations so far, in order. */
    List<Op> ops() {
        return Collections.unmodifiableList(ops);
    }

    /** @return how many of the first operations record what existed when recording started. */
    int existing() {
        return existing;
    }

    /** @return the number of operations so far. */
    int size() {
        return ops.size();
    }

    @Override
    public FileChannel open(final Path file, final OpenOption... options) throws IOException {
        final boolean existed = Files.exists(file);
        final FileChannel channel = FileChannel.open(file, options);
        final String name = relative(file);
        final int node;
        if (existed) {
            node = nodeOf(name);
            if (Arrays.asList(options).contains(StandardOpenOption.TRUNCATE_EXISTING)) {
                record(Kind.TRUNCATE, name, node, 0, null, null);
            }
        } else {
            node = nextNode++;
            live.put(name, node);
            record(Kind.CREATE, name, node, 0, null, null);
        }
        return new RecordingChannel(channel, name, node);
    }

    @Override
    public void moveAtomically(final Path source, final Path target) throws IOException {
        FileLayer.system().moveAtomically(source, target);
        final String from = relative(source);
        final int node = nodeOf(from);
        live.remove(from);
        live.put(relative(target), node);
        record(Kind.RENAME, from, node, 0, null, relative(target));
    }

    @Override
    public boolean deleteIfExists(final Path file) throws IOException {
        final boolean deleted = Files.deleteIfExists(file);
        if (deleted) {
            final String name = relative(file);
            final Integer node = live.remove(name);
            record(Kind.DELETE, name, node == null ? -1 : node, 0, null, null);
        }
        return deleted;
    }

    @Override
    public void createDirectories(final Path dir) throws IOException {
        final List<Path> missing = new ArrayList<>();
        for (Path level = dir.toAbsolutePath().normalize(); level != null && !Files.exists(level);
            level = level.getParent()) {
            missing.add(0, level);
        }
        Files.createDirectories(dir);
        for (final Path level : missing) {
            if (level.startsWith(root) && !level.equals(root)) {
                record(Kind.MKDIR, relative(level), -1, 0, null, null);
            }
        }
    }

    @Override
    public void forceDirectory(final Path dir) throws IOException {
        FileLayer.system().forceDirectory(dir);
        record(Kind.FORCE_DIRECTORY, relative(dir), -1, 1, null, null);
    }

    @Override
    public void force(final Path file) throws IOException {
        FileLayer.system().force(file);
        final String name = relative(file);
        record(Kind.FORCE_MAPPED, name, nodeOf(name), 1, Files.readAllBytes(file), null);
    }

    @Override
    public void mappedForWriting(final Path file) {
        final String name = relative(file);
        record(Kind.MAPPED, name, nodeOf(name), 0, null, null);
    }

    /** A file not created through this layer (another library created it): tracked from its first mention. */
    private int nodeOf(final String name) {
        final Integer node = live.get(name);
        if (node != null) {
            return node;
        }
        final int created = nextNode++;
        live.put(name, created);
        record(Kind.CREATE, name, created, 0, null, null);
        return created;
    }

    private String relative(final Path path) {
        return root.relativize(path.toAbsolutePath().normalize()).toString();
    }

    private void record(final Kind kind, final String path, final int node, final long position, final byte[] bytes,
        final String target) {
        long value;
        try {
            value = probe.getAsLong();
        } catch (final RuntimeException e) {
            value = -1;
        }
        ops.add(new Op(kind, path, node, position, bytes, target, value));
    }

    /** A real channel whose writes, truncations and forces are recorded. */
    private final class RecordingChannel extends FileChannel {
        private final FileChannel channel;
        private final String name;
        private final int node;

        RecordingChannel(final FileChannel channel, final String name, final int node) {
            this.channel = channel;
            this.name = name;
            this.node = node;
        }

        @Override
        public int write(final ByteBuffer src, final long position) throws IOException {
            final int start = src.position();
            final int n = channel.write(src, position);
            recordWrite(src, start, n, position);
            return n;
        }

        @Override
        public int write(final ByteBuffer src) throws IOException {
            final long position = channel.position();
            final int start = src.position();
            final int n = channel.write(src);
            recordWrite(src, start, n, position);
            return n;
        }

        @Override
        public long write(final ByteBuffer[] srcs, final int offset, final int length) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + length; i++) {
                total += write(srcs[i]);
            }
            return total;
        }

        @Override
        public FileChannel truncate(final long size) throws IOException {
            if (size < channel.size()) {
                record(Kind.TRUNCATE, name, node, size, null, null);
            }
            channel.truncate(size);
            return this;
        }

        @Override
        public void force(final boolean metaData) throws IOException {
            channel.force(metaData);
            record(Kind.FORCE, name, node, metaData ? 1 : 0, null, null);
        }

        @Override
        public int read(final ByteBuffer dst) throws IOException {
            return channel.read(dst);
        }

        @Override
        public long read(final ByteBuffer[] dsts, final int offset, final int length) throws IOException {
            return channel.read(dsts, offset, length);
        }

        @Override
        public int read(final ByteBuffer dst, final long position) throws IOException {
            return channel.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return channel.position();
        }

        @Override
        public FileChannel position(final long newPosition) throws IOException {
            channel.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public long transferTo(final long position, final long count, final WritableByteChannel target)
            throws IOException {
            return channel.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(final ReadableByteChannel src, final long position, final long count) {
            throw new UnsupportedOperationException("transferFrom bypasses the recording of " + name);
        }

        @Override
        public MappedByteBuffer map(final MapMode mode, final long position, final long size) throws IOException {
            if (mode != MapMode.READ_ONLY) {
                throw new UnsupportedOperationException("a writable mapping of " + name + " escapes the recording");
            }
            return channel.map(mode, position, size);
        }

        @Override
        public FileLock lock(final long position, final long size, final boolean shared) throws IOException {
            return channel.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(final long position, final long size, final boolean shared) throws IOException {
            return channel.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            channel.close();
        }

        private void recordWrite(final ByteBuffer src, final int start, final int n, final long position) {
            if (n > 0) {
                final byte[] bytes = new byte[n];
                src.duplicate().position(start).get(bytes);
                record(Kind.WRITE, name, node, position, bytes, null);
            }
        }
    }
}
