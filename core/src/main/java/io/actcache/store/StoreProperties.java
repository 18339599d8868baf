package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.FormatTooOldException;
import io.actcache.NotAStoreException;
import org.agrona.SemanticVersion;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * {@code actcache.properties}: the marker that a directory is a store, its format version and its creation
 * options. Written once at creation (atomically); checked on every open.
 */
public final class StoreProperties {
    /** Format version this build writes; readers accept the same major version, any minor. */
    public static final int FORMAT_VERSION = SemanticVersion.compose(1, 0, 0);
    /** Oldest format version this build reads. */
    public static final int MIN_FORMAT_VERSION = SemanticVersion.compose(1, 0, 0);

    private static final String FORMAT = "format";
    private static final String FORMAT_NAME = "actcache";
    private static final String VERSION = "format.version";
    private static final String DURABILITY = "durability";
    private static final String EXPECTED_KEYS = "expected.keys";
    private static final String CHECKSUM_BLOCK_SIZE = "checksum.block.size";
    private static final String COMPRESSION_BLOCK_SIZE = "compression.block.size";

    private final int formatVersion;
    private final Durability durability;
    private final long expectedKeys;
    private final int checksumBlockSize;
    private final int compressionBlockSize;

    private StoreProperties(final int formatVersion, final Durability durability, final long expectedKeys,
        final int checksumBlockSize, final int compressionBlockSize) {
        this.compressionBlockSize = compressionBlockSize;
        this.formatVersion = formatVersion;
        this.durability = durability;
        this.expectedKeys = expectedKeys;
        this.checksumBlockSize = checksumBlockSize;
    }

    /**
     * @param options creation options.
     * @return properties of a new store in the current format.
     */
    public static StoreProperties of(final StoreOptions options) {
        return new StoreProperties(FORMAT_VERSION, options.durability(), options.expectedKeys(),
            options.checksumBlockSize(), options.compressionBlockSize());
    }

    /** @return the store's format version (agrona {@link SemanticVersion}). */
    public int formatVersion() {
        return formatVersion;
    }

    /** @return the durability chosen at creation. */
    public Durability durability() {
        return durability;
    }

    /** @return the index sizing chosen at creation. */
    public long expectedKeys() {
        return expectedKeys;
    }

    /** @return raw bytes per block of compressed columns (a store created before it existed: the default). */
    public int compressionBlockSize() {
        return compressionBlockSize;
    }

    /** @return bytes per checksum block of column data. */
    public int checksumBlockSize() {
        return checksumBlockSize;
    }

    /**
     * Writes the file atomically.
     *
     * @param dir   store directory.
     * @param force whether to force it to the device.
     */
    public void write(final Path dir, final boolean force) {
        write(FileLayer.system(), dir, force);
    }

    /**
     * {@link #write(Path, boolean)} through a file layer.
     *
     * @param layer the store's file layer.
     * @param dir   store directory.
     * @param force whether to force it to the device.
     */
    void write(final FileLayer layer, final Path dir, final boolean force) {
        final Properties properties = new Properties();
        properties.setProperty(FORMAT, FORMAT_NAME);
        properties.setProperty(VERSION, SemanticVersion.toString(formatVersion));
        properties.setProperty(DURABILITY, durability.name());
        properties.setProperty(EXPECTED_KEYS, Long.toString(expectedKeys));
        properties.setProperty(CHECKSUM_BLOCK_SIZE, Integer.toString(checksumBlockSize));
        properties.setProperty(COMPRESSION_BLOCK_SIZE, Integer.toString(compressionBlockSize));
        final StringWriter text = new StringWriter();
        try {
            properties.store(text, "actcache store: do not edit");
        } catch (final IOException e) {
            throw new IllegalStateException(e);
        }
        StoreFiles.replaceAtomically(layer, dir.resolve(StoreFiles.PROPERTIES),
            ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.ISO_8859_1)), force);
    }

    /**
     * Reads and checks the file.
     *
     * @param dir store directory.
     * @return the properties.
     * @throws NotAStoreException     when the directory or file is missing.
     * @throws CorruptFileException   when the file cannot be parsed or lacks a field.
     * @throws FormatTooNewException  when written by a newer major version.
     * @throws FormatTooOldException  when older than this build reads.
     */
    public static StoreProperties read(final Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new NotAStoreException("no store at " + dir + ": not a directory");
        }
        final Path file = dir.resolve(StoreFiles.PROPERTIES);
        if (!Files.isRegularFile(file)) {
            throw new NotAStoreException("no store at " + dir + ": " + StoreFiles.PROPERTIES + " is missing");
        }
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            properties.load(reader);
        } catch (final IOException | IllegalArgumentException e) {
            throw new CorruptFileException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        if (!FORMAT_NAME.equals(properties.getProperty(FORMAT))) {
            throw new CorruptFileException(file + ": expected " + FORMAT + "=" + FORMAT_NAME + ", found "
                + FORMAT + "=" + properties.getProperty(FORMAT));
        }
        final int version = parseVersion(file, required(file, properties, VERSION));
        checkVersion(file, version);
        final Durability durability;
        final long expectedKeys;
        final int blockSize;
        final int compressionBlockSize;
        try {
            durability = Durability.valueOf(required(file, properties, DURABILITY));
            expectedKeys = Long.parseLong(required(file, properties, EXPECTED_KEYS));
            blockSize = Integer.parseInt(required(file, properties, CHECKSUM_BLOCK_SIZE));
            if (blockSize < 4096 || Integer.bitCount(blockSize) != 1) {
                throw new IllegalArgumentException(CHECKSUM_BLOCK_SIZE + " " + blockSize
                    + " is not a power of two >= 4096");
            }
            compressionBlockSize = Integer.parseInt(properties.getProperty(COMPRESSION_BLOCK_SIZE,
                Integer.toString(io.actcache.codec.BlockFileDescriptor.UNRECORDED_BLOCK_SIZE)));
            if (compressionBlockSize < io.actcache.codec.BlockFileDescriptor.MIN_BLOCK_SIZE
                || compressionBlockSize > io.actcache.codec.BlockFileDescriptor.MAX_BLOCK_SIZE
                || Integer.bitCount(compressionBlockSize) != 1) {
                throw new IllegalArgumentException(COMPRESSION_BLOCK_SIZE + " " + compressionBlockSize
                    + " is not a power of two in [4096, 16 MiB]");
            }
        } catch (final IllegalArgumentException e) {
            throw new CorruptFileException(file + ": bad value: " + e.getMessage(), e);
        }
        return new StoreProperties(version, durability, expectedKeys, blockSize, compressionBlockSize);
    }

    /**
     * Refuses a version this build does not read.
     *
     * @param file    the file, for the message.
     * @param version its version.
     */
    public static void checkVersion(final Path file, final int version) {
        if (SemanticVersion.major(version) > SemanticVersion.major(FORMAT_VERSION)) {
            throw new FormatTooNewException(file + " has format version " + SemanticVersion.toString(version)
                + ", newer than this build reads (" + SemanticVersion.toString(FORMAT_VERSION) + ")");
        }
        if (version < MIN_FORMAT_VERSION) {
            throw new FormatTooOldException(file + " has format version " + SemanticVersion.toString(version)
                + ", older than this build reads (at least " + SemanticVersion.toString(MIN_FORMAT_VERSION) + ")");
        }
    }

    private static String required(final Path file, final Properties properties, final String name) {
        final String value = properties.getProperty(name);
        if (value == null) {
            throw new CorruptFileException(file + ": missing " + name);
        }
        return value.trim();
    }

    private static int parseVersion(final Path file, final String text) {
        final String[] parts = text.split("\\.");
        try {
            if (parts.length != 3) {
                throw new NumberFormatException("expected major.minor.patch");
            }
            final int major = Integer.parseInt(parts[0]);
            final int minor = Integer.parseInt(parts[1]);
            final int patch = Integer.parseInt(parts[2]);
            if (major < 0 || major > 255 || minor < 0 || minor > 255 || patch < 0 || patch > 255) {
                throw new NumberFormatException("each part must be in [0, 255]");
            }
            return SemanticVersion.compose(major, minor, patch);
        } catch (final NumberFormatException e) {
            throw new CorruptFileException(file + ": bad " + VERSION + " '" + text + "': " + e.getMessage(), e);
        }
    }
}
