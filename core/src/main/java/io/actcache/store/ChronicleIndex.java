package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;
import net.openhft.chronicle.map.ChronicleMap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.zip.CRC32C;

/**
 * The writer's persistent index, {@code index.cmap}: a Chronicle Map from key to the descriptor's binary form
 * followed by its CRC32C, so a damaged value is detected rather than served. The applied epoch lives under a
 * reserved key that starts with U+0000, which no valid key can hold.
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
        try {
            return new ChronicleIndex(file, capacity, builder(capacity).createPersistedTo(file.toFile()));
        } catch (final IOException | RuntimeException e) {
            throw new CorruptFileException("cannot open index " + file + ": " + e, e);
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
                source.forEach((key, descriptor) -> map.put(key, encode(descriptor)));
                map.put(EPOCH_KEY, epochBytes(source.appliedEpoch()));
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
        map.put(key, encode(descriptor));
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
        final byte[] value = map.get(EPOCH_KEY);
        if (value == null) {
            return -1;
        }
        return ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Override
    public void appliedEpoch(final long epoch) {
        map.put(EPOCH_KEY, epochBytes(epoch));
    }

    @Override
    public void close() {
        map.close();
    }

    private static byte[] epochBytes(final long epoch) {
        return ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(epoch).array();
    }

    private static byte[] encode(final ColumnDescriptor descriptor) {
        final ByteBuffer bytes = ByteBuffer.allocate(descriptor.encodedLength() + Integer.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
        descriptor.encode(bytes);
        final CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, descriptor.encodedLength());
        bytes.putInt((int) crc.getValue());
        return bytes.array();
    }

    private ColumnDescriptor decode(final String key, final byte[] value) {
        final int length = value.length - Integer.BYTES;
        final CRC32C crc = new CRC32C();
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
