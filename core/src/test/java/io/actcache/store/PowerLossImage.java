package io.actcache.store;

import io.actcache.store.RecordingFileLayer.Kind;
import io.actcache.store.RecordingFileLayer.Op;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Replays a prefix of a {@link RecordingFileLayer} recording and writes what the disk would hold if the machine
 * stopped after it, into a fresh directory.
 *
 * <p>The model: a file's content is durable as of its last force; a created, renamed or deleted name is durable
 * only once its directory is forced. {@link Keep#FORCED} drops everything else (the power loss of the issue);
 * {@link Keep#SOME_UNFORCED} also keeps a random subset of unforced writes, split into 4 KiB pages kept
 * independently in any order, and a random prefix of each directory's unforced changes (as a journaling file
 * system orders metadata), which real disks may do; {@link Keep#ALL} keeps everything (a killed process: the page
 * cache survives). A file written through another library's mappings (the Chronicle index) has unknown content
 * from its {@link Kind#MAPPED} hand-over to its next {@link Kind#FORCE_MAPPED}; {@link Mapped} chooses what it
 * holds then.
 */
final class PowerLossImage {
    /** What survives. */
    enum Keep {
        /** Only forced content and forced directory entries. */
        FORCED,
        /** Forced state plus a random subset of what was not forced. */
        SOME_UNFORCED,
        /** Everything written (a killed process). */
        ALL
    }

    /** What a mapped file of unknown content holds in the image. */
    enum Mapped {
        /** Nothing: an empty file. */
        EMPTY,
        /** Random bytes. */
        GARBAGE,
        /** What the live file of that name holds now, at the end of the recording (stale or ahead). */
        LIVE
    }

    private static final int PAGE = 4096;
    private static final Object DIRECTORY = new Object();

    private final Map<Integer, Node> nodes = new HashMap<>();
    private final Map<String, Dir> dirs = new HashMap<>();

    private PowerLossImage() {
        dirs.put("", new Dir());
    }

    /**
     * @param ops    a recording.
     * @param cut    how many of its operations happened.
     * @param keep   what survives.
     * @param mapped what a mapped file of unknown content holds.
     * @param seed   the seed of the random choices.
     * @param live   the live store directory (for {@link Mapped#LIVE}).
     * @param target a directory to create, receiving the image.
     */
    static void write(final List<Op> ops, final int cut, final Keep keep, final Mapped mapped, final long seed,
        final Path live, final Path target) throws IOException {
        final PowerLossImage image = new PowerLossImage();
        ops.subList(0, cut).forEach(image::apply);
        Files.createDirectories(target);
        image.materialise("", target, keep, mapped, new SplittableRandom(seed), live);
    }

    private void apply(final Op op) {
        if (op.path().startsWith("..")) {
            return;
        }
        switch (op.kind()) {
            case EXISTING_DIR -> {
                if (!op.path().isEmpty()) {
                    dirs.put(op.path(), new Dir());
                    parent(op.path()).existing(name(op.path()), DIRECTORY);
                }
            }
            case EXISTING -> {
                final Node node = new Node();
                node.current = op.bytes().clone();
                node.durable = op.bytes().clone();
                nodes.put(op.node(), node);
                parent(op.path()).existing(name(op.path()), op.node());
            }
            case MKDIR -> {
                dirs.put(op.path(), new Dir());
                parent(op.path()).change(op);
            }
            case CREATE -> {
                nodes.put(op.node(), new Node());
                parent(op.path()).change(op);
            }
            case WRITE -> {
                final Node node = nodes.get(op.node());
                node.current = Node.write(node.current, op.position(), op.bytes());
                node.unforced.add(op);
            }
            case TRUNCATE -> {
                final Node node = nodes.get(op.node());
                node.current = Arrays.copyOf(node.current, (int) Math.min(node.current.length, op.position()));
                node.unforced.add(op);
            }
            case FORCE -> {
                final Node node = nodes.get(op.node());
                node.durable = node.current.clone();
                node.unforced.clear();
            }
            case MAPPED -> nodes.get(op.node()).unknown = true;
            case FORCE_MAPPED -> {
                final Node node = nodes.get(op.node());
                node.current = op.bytes().clone();
                node.durable = op.bytes().clone();
                node.unknown = false;
                node.unforced.clear();
            }
            case RENAME -> {
                parent(op.path()).change(op);
                if (parent(op.target()) != parent(op.path())) {
                    parent(op.target()).change(op);
                }
            }
            case DELETE -> parent(op.path()).change(op);
            case FORCE_DIRECTORY -> {
                final Dir dir = dirs.get(op.path());
                if (dir != null) {
                    dir.durable = new TreeMap<>(dir.current);
                    dir.unforced.clear();
                }
            }
            default -> throw new IllegalStateException("unknown operation " + op);
        }
    }

    private void materialise(final String dirName, final Path target, final Keep keep, final Mapped mapped,
        final SplittableRandom random, final Path live) throws IOException {
        final Dir dir = dirs.get(dirName);
        final Map<String, Object> entries = dir.entries(keep, random, dirName);
        for (final Map.Entry<String, Object> entry : entries.entrySet()) {
            final String name = dirName.isEmpty() ? entry.getKey() : dirName + "/" + entry.getKey();
            if (entry.getValue() == DIRECTORY) {
                Files.createDirectories(target.resolve(entry.getKey()));
                if (dirs.containsKey(name)) {
                    materialise(name, target.resolve(entry.getKey()), keep, mapped, random, live);
                }
                continue;
            }
            final Node node = nodes.get((Integer) entry.getValue());
            Files.write(target.resolve(entry.getKey()), node.unknown ? unknownContent(mapped, random, live.resolve(name))
                : node.content(keep, random));
        }
    }

    private static byte[] unknownContent(final Mapped mapped, final SplittableRandom random, final Path liveFile)
        throws IOException {
        return switch (mapped) {
            case EMPTY -> new byte[0];
            case GARBAGE -> {
                final byte[] garbage = new byte[1 + random.nextInt(64 * 1024)];
                random.nextBytes(garbage);
                yield garbage;
            }
            case LIVE -> Files.exists(liveFile) ? Files.readAllBytes(liveFile) : new byte[0];
        };
    }

    private Dir parent(final String path) {
        final int slash = path.lastIndexOf('/');
        final Dir dir = dirs.get(slash < 0 ? "" : path.substring(0, slash));
        if (dir == null) {
            throw new IllegalStateException("no directory recorded for " + path);
        }
        return dir;
    }

    private static String name(final String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** A file: its content now, as of its last force, and the writes and truncations since. */
    private static final class Node {
        byte[] current = new byte[0];
        byte[] durable = new byte[0];
        final List<Op> unforced = new ArrayList<>();
        boolean unknown;

        byte[] content(final Keep keep, final SplittableRandom random) {
            if (keep == Keep.ALL) {
                return current;
            }
            byte[] content = durable;
            if (keep == Keep.SOME_UNFORCED) {
                for (final Op op : unforced) {
                    if (op.kind() == Kind.TRUNCATE) {
                        if (random.nextBoolean()) {
                            content = Arrays.copyOf(content, (int) Math.min(content.length, op.position()));
                        }
                        continue;
                    }
                    for (int from = 0; from < op.bytes().length; ) {
                        final long at = op.position() + from;
                        final int to = (int) Math.min(op.bytes().length, from + PAGE - at % PAGE);
                        if (random.nextBoolean()) {
                            content = write(content, at, Arrays.copyOfRange(op.bytes(), from, to));
                        }
                        from = to;
                    }
                }
            }
            return content;
        }

        static byte[] write(final byte[] content, final long position, final byte[] bytes) {
            final byte[] result = position + bytes.length > content.length
                ? Arrays.copyOf(content, (int) position + bytes.length) : content.clone();
            System.arraycopy(bytes, 0, result, (int) position, bytes.length);
            return result;
        }
    }

    /** A directory: its entries (name to node id or {@link #DIRECTORY}) now and as of its last force. */
    private final class Dir {
        Map<String, Object> current = new TreeMap<>();
        Map<String, Object> durable = new TreeMap<>();
        final List<Op> unforced = new ArrayList<>();

        void existing(final String name, final Object entry) {
            current.put(name, entry);
            durable.put(name, entry);
        }

        void change(final Op op) {
            applyTo(current, op);
            unforced.add(op);
        }

        Map<String, Object> entries(final Keep keep, final SplittableRandom random, final String dirName) {
            if (keep == Keep.ALL) {
                return current;
            }
            final Map<String, Object> entries = new TreeMap<>(durable);
            if (keep == Keep.SOME_UNFORCED) {
                final int kept = random.nextInt(unforced.size() + 1);
                unforced.subList(0, kept).forEach(op -> applyTo(entries, op));
            }
            return entries;
        }

        private void applyTo(final Map<String, Object> entries, final Op op) {
            switch (op.kind()) {
                case MKDIR -> entries.put(name(op.path()), DIRECTORY);
                case CREATE -> entries.put(name(op.path()), op.node());
                case DELETE -> entries.remove(name(op.path()));
                case RENAME -> {
                    if (parent(op.path()) == this) {
                        entries.remove(name(op.path()));
                    }
                    if (parent(op.target()) == this) {
                        entries.put(name(op.target()), op.node());
                    }
                }
                default -> throw new IllegalStateException("not a directory change: " + op);
            }
        }
    }
}
