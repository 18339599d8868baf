package io.actcache.store;

/**
 * How a column holds its tensors. The id is stored on disk and never reused.
 */
public enum ColumnKind {
    /** One tensor grown by appends along dim 0. */
    DENSE(0),
    /** A ragged sequence of tensors of differing shapes (keep-as-list strategies). */
    LIST(1),
    /** A single value, kept by the {@code first} strategy. */
    SCALAR(2);

    private final int id;

    ColumnKind(final int id) {
        this.id = id;
    }

    /** @return the stable id stored on disk. */
    public int id() {
        return id;
    }

    /**
     * @param id a stored id.
     * @return the kind.
     * @throws IllegalArgumentException naming the id when unknown.
     */
    public static ColumnKind fromId(final int id) {
        for (final ColumnKind kind : values()) {
            if (kind.id == id) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown column kind id " + id);
    }
}
