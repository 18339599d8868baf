package io.actcache.codec;

/**
 * How a column's bytes are laid out in its file. Only {@link #RAW} exists so far; the id is stored in journal
 * records and index values, so ids are never reused.
 */
public enum Codec {
    /** Uncompressed little-endian elements after a 4096-byte NPY header: memory-mapped, zero-copy. */
    RAW(0);

    private final int id;

    Codec(final int id) {
        this.id = id;
    }

    /** @return the stable id stored on disk. */
    public int id() {
        return id;
    }

    /**
     * @param id a stored codec id.
     * @return the codec.
     * @throws IllegalArgumentException naming the id when unknown.
     */
    public static Codec fromId(final int id) {
        for (final Codec codec : values()) {
            if (codec.id == id) {
                return codec;
            }
        }
        throw new IllegalArgumentException("unknown codec id " + id);
    }
}
