package io.actcache.codec;

/**
 * How a column's bytes are laid out in its files. The id is stored in journal records, index values and the
 * headers of block-compressed files, so ids are never reused.
 */
public enum Codec {
    /** Uncompressed little-endian elements after a 4096-byte NPY header: memory-mapped, zero-copy. */
    RAW(0),
    /** Blocks of raw bytes, each compressed with LZ4 (see {@link BlockFileDescriptor}). */
    LZ4(1),
    /**
     * Blocks byte-shuffled first (byte 0 of every element, then byte 1, ...: the Blosc idea), then LZ4: exponent
     * bytes and zero high bytes end up in long runs LZ4 compresses well.
     */
    SHUFFLE_LZ4(2);

    private final int id;

    Codec(final int id) {
        this.id = id;
    }

    /** @return the stable id stored on disk. */
    public int id() {
        return id;
    }

    /** @return true when the column is stored as compressed blocks with a block index (not an NPY file). */
    public boolean isBlockCompressed() {
        return this != RAW;
    }

    /**
     * @param id a stored codec id.
     * @return the codec.
     * @throws IllegalArgumentException naming the id when unknown (callers add the file at fault).
     */
    public static Codec fromId(final int id) {
        for (final Codec codec : values()) {
            if (codec.id == id) {
                return codec;
            }
        }
        throw new IllegalArgumentException("unknown codec id " + id + " (this build knows 0 = RAW, 1 = LZ4, "
            + "2 = SHUFFLE_LZ4)");
    }
}
