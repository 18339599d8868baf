package io.actcache.store;

/**
 * Settings of a store. Immutable; build with {@link #builder()}. {@link #durability()} and
 * {@link #expectedKeys()} are creation options, recorded in {@code actcache.properties} and taken from there on
 * reopen; the others govern one open store.
 */
public final class StoreOptions {
    /** Largest mapping chunk: {@code FileChannel.map} is int-sized. */
    public static final long MAX_CHUNK_SIZE = 1L << 30;
    /** Smallest mapping chunk. */
    public static final long MIN_CHUNK_SIZE = 1L << 16;
    /** Fewest column files open at once: an append to a compressed column holds two (data and block index). */
    public static final int MIN_OPEN_FILES = 2;
    /**
     * Largest checkpoint threshold: a journal past it checkpoints after its next commit, so with records of at most
     * 256 MiB it stays well under the 2 GiB a reader reads.
     */
    public static final long MAX_CHECKPOINT_JOURNAL_BYTES = 1L << 30;

    private final Durability durability;
    private final long expectedKeys;
    private final long chunkSize;
    private final int maxMappedChunks;
    private final long maxMappedBytes;
    private final int maxOpenFiles;
    private final long checkpointJournalBytes;
    private final int checksumBlockSize;
    private final int compressionBlockSize;
    private final int maxDecompressedBlocks;
    private final CodecPolicy codecPolicy;
    private final FileLayer fileLayer;

    private StoreOptions(final Builder builder) {
        this.durability = builder.durability;
        this.expectedKeys = builder.expectedKeys;
        this.chunkSize = builder.chunkSize;
        this.maxMappedChunks = builder.maxMappedChunks;
        this.maxMappedBytes = builder.maxMappedBytes;
        this.maxOpenFiles = builder.maxOpenFiles;
        this.checkpointJournalBytes = builder.checkpointJournalBytes;
        this.checksumBlockSize = builder.checksumBlockSize;
        this.compressionBlockSize = builder.compressionBlockSize;
        this.maxDecompressedBlocks = builder.maxDecompressedBlocks;
        this.codecPolicy = builder.codecPolicy;
        this.fileLayer = builder.fileLayer;
    }

    /** @return defaults: FSYNC, 10,000 keys, 1 GiB chunks, 256 mappings, 64 GiB mapped, 64 open files. */
    public static StoreOptions defaults() {
        return builder().build();
    }

    /** @return a builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding these settings. */
    public Builder toBuilder() {
        final Builder builder = new Builder();
        builder.durability = durability;
        builder.expectedKeys = expectedKeys;
        builder.chunkSize = chunkSize;
        builder.maxMappedChunks = maxMappedChunks;
        builder.maxMappedBytes = maxMappedBytes;
        builder.maxOpenFiles = maxOpenFiles;
        builder.checkpointJournalBytes = checkpointJournalBytes;
        builder.checksumBlockSize = checksumBlockSize;
        builder.compressionBlockSize = compressionBlockSize;
        builder.maxDecompressedBlocks = maxDecompressedBlocks;
        builder.codecPolicy = codecPolicy;
        builder.fileLayer = fileLayer;
        return builder;
    }

    /** @return what a commit survives. */
    public Durability durability() {
        return durability;
    }

    /** @return the number of keys the index is sized for; it grows past this by rebuilding. */
    public long expectedKeys() {
        return expectedKeys;
    }

    /** @return bytes per mapping of a column file; a power of two. */
    public long chunkSize() {
        return chunkSize;
    }

    /** @return the most mappings alive at once; the least recently used is unmapped first. */
    public int maxMappedChunks() {
        return maxMappedChunks;
    }

    /** @return the most bytes mapped at once. */
    public long maxMappedBytes() {
        return maxMappedBytes;
    }

    /** @return the most column files the writer keeps open at once. */
    public int maxOpenFiles() {
        return maxOpenFiles;
    }

    /** @return journal size past which a commit is followed by a checkpoint. */
    public long checkpointJournalBytes() {
        return checkpointJournalBytes;
    }

    /**
     * @return bytes per checksum block of column data (a creation option): each complete block's CRC32C is
     *     kept in the column's {@code .crc} file.
     */
    public int checksumBlockSize() {
        return checksumBlockSize;
    }

    /**
     * @return raw bytes per block of LZ4 and SHUFFLE_LZ4 columns (a creation option, kept in
     *     {@code actcache.properties}).
     */
    public int compressionBlockSize() {
        return compressionBlockSize;
    }

    /** @return decompressed blocks the store keeps off-heap for reads of compressed columns (the pool's bound). */
    public int maxDecompressedBlocks() {
        return maxDecompressedBlocks;
    }

    /**
     * @return the codec of each new DENSE column, by key pattern (an option of the writer that creates columns;
     *     existing columns change codec only through {@code compact}).
     */
    public CodecPolicy codecPolicy() {
        return codecPolicy;
    }

    /** @return the seam every file change goes through; only tests in this package replace it. */
    FileLayer fileLayer() {
        return fileLayer;
    }

    @Override
    public String toString() {
        return "StoreOptions{durability=" + durability + ", expectedKeys=" + expectedKeys + ", chunkSize=" + chunkSize
            + ", maxMappedChunks=" + maxMappedChunks + ", maxMappedBytes=" + maxMappedBytes + ", maxOpenFiles="
            + maxOpenFiles + ", checkpointJournalBytes=" + checkpointJournalBytes + ", checksumBlockSize="
            + checksumBlockSize + ", compressionBlockSize=" + compressionBlockSize + ", maxDecompressedBlocks="
            + maxDecompressedBlocks + ", codecPolicy=" + codecPolicy + "}";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private Durability durability = Durability.FSYNC;
        private long expectedKeys = 10_000;
        private long chunkSize = MAX_CHUNK_SIZE;
        private int maxMappedChunks = 256;
        private long maxMappedBytes = 64L << 30;
        private int maxOpenFiles = 64;
        private long checkpointJournalBytes = 16L << 20;
        private int checksumBlockSize = 64 << 10;
        private int compressionBlockSize = io.actcache.codec.BlockFileDescriptor.DEFAULT_BLOCK_SIZE;
        private int maxDecompressedBlocks = 64;
        private CodecPolicy codecPolicy = CodecPolicy.raw();
        private FileLayer fileLayer = FileLayer.system();

        private Builder() {
        }

        /**
         * Test seam, package-private on purpose: routes every file change of the store through {@code value}.
         *
         * @param value the layer.
         * @return this.
         */
        Builder fileLayer(final FileLayer value) {
            this.fileLayer = value;
            return this;
        }

        /**
         * @param value what a commit survives.
         * @return this.
         */
        public Builder durability(final Durability value) {
            this.durability = value;
            return this;
        }

        /**
         * @param value keys to size the index for, at least 1.
         * @return this.
         */
        public Builder expectedKeys(final long value) {
            this.expectedKeys = value;
            return this;
        }

        /**
         * @param value mapping chunk size, a power of two from 64 KiB to 1 GiB.
         * @return this.
         */
        public Builder chunkSize(final long value) {
            this.chunkSize = value;
            return this;
        }

        /**
         * @param value mappings alive at once, at least 2.
         * @return this.
         */
        public Builder maxMappedChunks(final int value) {
            this.maxMappedChunks = value;
            return this;
        }

        /**
         * @param value bytes mapped at once, at least one chunk.
         * @return this.
         */
        public Builder maxMappedBytes(final long value) {
            this.maxMappedBytes = value;
            return this;
        }

        /**
         * @param value column files open at once, at least {@value StoreOptions#MIN_OPEN_FILES} (an append to a compressed
         *              column writes its data file and its block index together).
         * @return this.
         */
        public Builder maxOpenFiles(final int value) {
            this.maxOpenFiles = value;
            return this;
        }

        /**
         * @param value journal bytes that trigger a checkpoint, 4 KiB to 1 GiB.
         * @return this.
         */
        public Builder checkpointJournalBytes(final long value) {
            this.checkpointJournalBytes = value;
            return this;
        }

        /**
         * @param value checksum block size, a power of two from 4 KiB to 64 MiB (a creation option).
         * @return this.
         */
        public Builder checksumBlockSize(final int value) {
            this.checksumBlockSize = value;
            return this;
        }

        /**
         * @param value raw bytes per block of compressed columns, a power of two from 4 KiB to 16 MiB (a creation
         *              option; a reopened store keeps the one it was created with).
         * @return this.
         */
        public Builder compressionBlockSize(final int value) {
            this.compressionBlockSize = value;
            return this;
        }

        /**
         * @param value decompressed blocks kept for reads of compressed columns, at least 2.
         * @return this.
         */
        public Builder maxDecompressedBlocks(final int value) {
            this.maxDecompressedBlocks = value;
            return this;
        }

        /**
         * @param value the codec of each new DENSE column by key pattern.
         * @return this.
         */
        public Builder codecPolicy(final CodecPolicy value) {
            this.codecPolicy = java.util.Objects.requireNonNull(value, "codecPolicy");
            return this;
        }

        /**
         * @return the options.
         * @throws IllegalArgumentException naming the setting and its bounds when a value is out of range.
         */
        public StoreOptions build() {
            if (durability == null) {
                throw new IllegalArgumentException("durability must not be null");
            }
            check("expectedKeys", expectedKeys, 1, Integer.MAX_VALUE);
            check("chunkSize", chunkSize, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE);
            if (Long.bitCount(chunkSize) != 1) {
                throw new IllegalArgumentException("chunkSize must be a power of two, was " + chunkSize);
            }
            check("maxMappedChunks", maxMappedChunks, 2, 1 << 20);
            check("maxMappedBytes", maxMappedBytes, chunkSize, Long.MAX_VALUE);
            check("maxOpenFiles", maxOpenFiles, MIN_OPEN_FILES, 1 << 16);
            check("checkpointJournalBytes", checkpointJournalBytes, 4096, MAX_CHECKPOINT_JOURNAL_BYTES);
            check("checksumBlockSize", checksumBlockSize, 4096, 64 << 20);
            if (Integer.bitCount(checksumBlockSize) != 1) {
                throw new IllegalArgumentException("checksumBlockSize must be a power of two, was " + checksumBlockSize);
            }
            check("compressionBlockSize", compressionBlockSize, io.actcache.codec.BlockFileDescriptor.MIN_BLOCK_SIZE,
                io.actcache.codec.BlockFileDescriptor.MAX_BLOCK_SIZE);
            if (Integer.bitCount(compressionBlockSize) != 1) {
                throw new IllegalArgumentException("compressionBlockSize must be a power of two, was "
                    + compressionBlockSize);
            }
            check("maxDecompressedBlocks", maxDecompressedBlocks, 2, 1 << 20);
            return new StoreOptions(this);
        }

        private static void check(final String name, final long value, final long min, final long max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "], was " + value);
            }
        }
    }
}
