package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;
import net.openhft.chronicle.map.ChronicleMap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;

/**
 * The writer's persistent index, {@code index.cmap}: a Chronicle Map from key to the descriptor's binary form
 * followed by the CRC32C of the key's UTF-8 bytes and that form, so a damaged key or value is detected rather than
 * served. The applied epoch and the key count live under a reserved key that starts with U+0000, which no valid
 * key can hold, with their own CRC32C. Opening checks every entry (see {@link #check()}).
 *
 * <p>Design note: the index is derived from the manifest and journal. It is rebuilt (into a new file, renamed
 * into place) when missing, unreadable, stale beyond the journal, over capacity, or after an unclean shutdown,
 * so a writer killed while holding Chronicle segment locks never makes the next open hang.
 */
final class ChronicleIndex implements DescriptorIndex {
    static {
        ChronicleSettings.apply();
    }

    private static final String EPOCH_KEY = "\u0000epoch";
    private static final double MAX_BLOAT = 4.0;
    private static final int EPOCH_ENTRY_LENGTH = 2 * Long.BYTES + Integer.BYTES;

    private final Path file;
    private final long capacity;
    private final ChronicleMap<CharSequence, byte[]> map;

    private ChronicleIndex(final Path file, final long capacity, final ChronicleMap<CharSequence, byte[]> map) {
        this.file = file;
        this.capacity = capacity;
        this.map = map;
    }

    /**
     * Opens an existing index file.
     *
     * @param file     {@code index.cmap}.
     * @param capacity the entries it was sized for.
     * @return the index.
     * @throws CorruptFileException when Chronicle cannot open it.
     */
    static ChronicleIndex open(final Path file, final long capacity) {
        return open(FileLayer.system(), file, capacity);
    }

    /**
     * {@link #open(Path, long)} through a file layer, which is told that Chronicle writes the file.
     *
     * @param layer    the store's file layer.
     * @param file     {@code index.cmap}.
     * @param capacity the entries it was sized for.
     * @return the index.
     */
    static ChronicleIndex open(final FileLayer layer, final Path file, final long capacity) {
        layer.mappedForWriting(file);
        final ChronicleMap<CharSequence, byte[]> map;
        try {
            map = builder(capacity).createPersistedTo(file.toFile());
        } catch (final IOException | RuntimeException e) {
            throw new CorruptFileException("cannot open index " + file + ": " + e, e);
        }
        final ChronicleIndex index = new ChronicleIndex(file, capacity, map);
        try {
            index.check();
            return index;
        } catch (final RuntimeException e) {
            try {
                map.close();
            } catch (final RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof CorruptFileException corrupt ? corrupt
                : new CorruptFileException("cannot read index " + file + ": " + e, e);
        }
    }

    /**
     * The whole-index check on open, one pass over the entries: each entry's CRC32C (key and value), the number of
     * keys against the count stored with the epoch, and each key found again by lookup. Chronicle's own structures
     * carry no checksum of ours; damage there shows as a missing, extra or unreachable entry, or as Chronicle
     * failing, and the caller rebuilds the index.
     */
    private void check() {
        final List<String> keys = new ArrayList<>();
        map.forEach((key, value) -> {
            final String text = key.toString();
            if (!text.equals(EPOCH_KEY)) {
                decode(text, value);
                keys.add(text);
            }
        });
        final long stored = keyCount();
        if (keys.size() != stored || map.size() != stored + 1) {
            throw new CorruptFileException("index " + file + " holds " + keys.size() + " keys (Chronicle counts "
                + (map.size() - 1) + ") but its epoch entry says " + stored);
        }
        for (final String key : keys) {
            if (map.get(key) == null) {
                throw new CorruptFileException("index " + file + ": key '" + Keys.escape(key)
                    + "' is listed but not found by lookup");
            }
        }
    }

    /**
     * Writes a new index from {@code source} into a temporary file and renames it over {@code file}.
     *
     * @param file     {@code index.cmap}.
     * @param capacity entries to size for.
     * @param source   the descriptors and epoch.
     * @return the new index, open.
     */
    static ChronicleIndex rebuild(final Path file, final long capacity, final DescriptorIndex source) {
        return rebuild(FileLayer.system(), file, capacity, source);
    }

    /**
     * {@link #rebuild(Path, long, DescriptorIndex)} through a file layer.
     *
     * @param layer    the store's file layer.
     * @param file     {@code index.cmap}.
     * @param capacity entries to size for.
     * @param source   the descriptors and epoch.
     * @return the new index, open.
     */
    static ChronicleIndex rebuild(final FileLayer layer, final Path file, final long capacity,
        final DescriptorIndex source) {
        final Path temp = file.resolveSibling(file.getFileName() + ".rebuild");
        try {
            layer.deleteIfExists(temp);
            layer.mappedForWriting(temp);
            try (ChronicleMap<CharSequence, byte[]> map = builder(capacity).createPersistedTo(temp.toFile())) {
                source.forEach((key, descriptor) -> map.put(key, encode(key, descriptor)));
                map.put(EPOCH_KEY, epochBytes(source.appliedEpoch(), source.size()));
            }
            layer.moveAtomically(temp, file);
        } catch (final IOException | RuntimeException e) {
            try {
                layer.deleteIfExists(temp);
            } catch (final IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new StoreIOException("cannot rebuild index " + file + ": " + e, e);
        }
        return open(layer, file, capacity);
    }

    private static net.openhft.chronicle.map.ChronicleMapBuilder<CharSequence, byte[]> builder(final long capacity) {
        return ChronicleMap.of(CharSequence.class, byte[].class)
            .name("actcache-index")
            .entries(capacity)
            .averageKeySize(40)
            .averageValueSize(ColumnDescriptor.DIMS_OFFSET + 3 * Long.BYTES + Integer.BYTES)
            .maxBloatFactor(MAX_BLOAT);
    }

    /** @return the entries this index was sized for. */
    long capacity() {
        return capacity;
    }

    /**
     * @param added keys about to be added.
     * @return true when that many more keys may exceed what the map can hold; the store then rebuilds it larger.
     */
    boolean isFull(final long added) {
        return map.size() + added >= (long) (capacity * (MAX_BLOAT - 0.5));
    }

    @Override
    public ColumnDescriptor get(final String key) {
        final byte[] value = map.get(key);
        return value == null ? null : decode(key, value);
    }

    @Override
    public void put(final String key, final ColumnDescriptor descriptor) {
        map.put(key, encode(key, descriptor));
    }

    @Override
    public void remove(final String key) {
        map.remove(key);
    }

    @Override
    public int size() {
        return map.size() - (map.containsKey(EPOCH_KEY) ? 1 : 0);
    }

    @Override
    public void forEach(final BiConsumer<String, ColumnDescriptor> action) {
        map.forEach((key, value) -> {
            final String text = key.toString();
            if (!text.startsWith("\u0000")) {
                action.accept(text, decode(text, value));
            }
        });
    }

    @Override
    public long appliedEpoch() {
        return epochEntry().getLong(0);
    }

    @Override
    public void appliedEpoch(final long epoch) {
        map.put(EPOCH_KEY, epochBytes(epoch, size()));
    }

    /** @return the key count stored with the applied epoch. */
    private long keyCount() {
        return epochEntry().getLong(Long.BYTES);
    }

    private ByteBuffer epochEntry() {
        final byte[] value = map.get(EPOCH_KEY);
        if (value == null || value.length != EPOCH_ENTRY_LENGTH) {
            throw new CorruptFileException("index " + file + " has " + (value == null ? "no epoch entry"
                : "an epoch entry of " + value.length + " bytes, not " + EPOCH_ENTRY_LENGTH));
        }
        final CRC32C crc = new CRC32C();
        crc.update(value, 0, 2 * Long.BYTES);
        final ByteBuffer bytes = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.getInt(2 * Long.BYTES) != (int) crc.getValue()) {
            throw new CorruptFileException("index " + file + ": the epoch entry fails its CRC32C");
        }
        return bytes;
    }

    @Override
    public void close() {
        map.close();
    }

    /** Epoch (int64), key count (int64), CRC32C of both (int32). */
    private static byte[] epochBytes(final long epoch, final long keyCount) {
        final ByteBuffer bytes = ByteBuffer.allocate(EPOCH_ENTRY_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
            .putLong(epoch).putLong(keyCount);
        final CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, 2 * Long.BYTES);
        return bytes.putInt((int) crc.getValue()).array();
    }

    private static byte[] encode(final String key, final ColumnDescriptor descriptor) {
        final ByteBuffer bytes = ByteBuffer.allocate(descriptor.encodedLength() + Integer.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
        descriptor.encode(bytes);
        final CRC32C crc = new CRC32C();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        crc.update(bytes.array(), 0, descriptor.encodedLength());
        bytes.putInt((int) crc.getValue());
        return bytes.array();
    }

    private ColumnDescriptor decode(final String key, final byte[] value) {
        final int length = value.length - Integer.BYTES;
        final CRC32C crc = new CRC32C();
        crc.update(key.getBytes(StandardCharsets.UTF_8));
        if (length > 0) {
            crc.update(value, 0, length);
        }
        final ByteBuffer bytes = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (length < ColumnDescriptor.DIMS_OFFSET || bytes.getInt(length) != (int) crc.getValue()) {
            throw new CorruptFileException("index " + file + ": the value of key '" + Keys.escape(key)
                + "' fails its CRC32C; the index is derived, reopen the store to rebuild it");
        }
        try {
            return ColumnDescriptor.decode(bytes.limit(length));
        } catch (final RuntimeException e) {
            throw new CorruptFileException("index " + file + ": the value of key '" + Keys.escape(key)
                + "' cannot be decoded: " + e.getMessage(), e);
        }
    }
}
