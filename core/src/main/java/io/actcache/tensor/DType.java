package io.actcache.tensor;

/**
 * Element types of a tensor. Values are little-endian in memory views and on disk.
 *
 * <p>Each type carries its byte width, a stable one-byte id for binary formats, its safetensors name and its
 * NPY {@code descr}. numpy has no bfloat16, so {@link #BF16} is written to NPY files as {@code <u2}: the raw
 * bit patterns, which {@code (x.astype(np.uint32) << 16).view(np.float32)} turns back into values.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4, 1, "F32", "<f4"),
    /** IEEE 754 binary16. */
    F16(2, 2, "F16", "<f2"),
    /** bfloat16: the upper half of a binary32. NPY files carry it as {@code <u2}. */
    BF16(2, 3, "BF16", "<u2"),
    /** IEEE 754 binary64. */
    F64(8, 4, "F64", "<f8"),
    /** Signed 64-bit integer. */
    I64(8, 5, "I64", "<i8"),
    /** Signed 32-bit integer. */
    I32(4, 6, "I32", "<i4"),
    /** Signed 16-bit integer. */
    I16(2, 7, "I16", "<i2"),
    /** Signed 8-bit integer. */
    I8(1, 8, "I8", "|i1"),
    /** Unsigned 8-bit integer. */
    U8(1, 9, "U8", "|u1"),
    /** Boolean, one byte, 0 or 1. */
    BOOL(1, 10, "BOOL", "|b1");

    private static final DType[] BY_ID = new DType[11];

    static {
        for (final DType type : values()) {
            BY_ID[type.id] = type;
        }
    }

    private final int byteWidth;
    private final int shift;
    private final int id;
    private final String safetensorsName;
    private final String npyDescr;

    DType(final int byteWidth, final int id, final String safetensorsName, final String npyDescr) {
        this.byteWidth = byteWidth;
        this.shift = Integer.numberOfTrailingZeros(byteWidth);
        this.id = id;
        this.safetensorsName = safetensorsName;
        this.npyDescr = npyDescr;
    }

    /** @return bytes per element: 1, 2, 4 or 8. */
    public int byteWidth() {
        return byteWidth;
    }

    /** @return log2 of {@link #byteWidth()}, for index-to-offset shifts. */
    public int shift() {
        return shift;
    }

    /** @return the stable id used in binary formats (journal records, index values). */
    public int id() {
        return id;
    }

    /** @return the safetensors dtype name, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** @return the NPY {@code descr} string, e.g. {@code "<f4"}. */
    public String npyDescr() {
        return npyDescr;
    }

    /** @return true for F32, F16, BF16 and F64. */
    public boolean isFloatingPoint() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /**
     * @param id a value of {@link #id()}.
     * @return the type with that id.
     * @throws IllegalArgumentException naming the id when no type has it.
     */
    public static DType fromId(final int id) {
        if (id <= 0 || id >= BY_ID.length) {
            throw new IllegalArgumentException("unknown dtype id " + id + " (known: 1.." + (BY_ID.length - 1) + ")");
        }
        return BY_ID[id];
    }

    /**
     * @param name a safetensors dtype name such as {@code "F32"}.
     * @return the matching type.
     * @throws IllegalArgumentException naming the dtype when actcache does not support it (F8 variants, U16...).
     */
    public static DType fromSafetensorsName(final String name) {
        for (final DType type : values()) {
            if (type.safetensorsName.equals(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unsupported safetensors dtype '" + name + "'");
    }

    /**
     * @param descr an NPY descr such as {@code "<f4"}; {@code "<"} and {@code "|"} are both accepted for
     *              one-byte types, as numpy writes either.
     * @return the matching type; {@code <u2} maps to {@link #BF16}, the form actcache writes.
     * @throws IllegalArgumentException naming the descr when unsupported (big-endian, strings, objects...).
     */
    public static DType fromNpyDescr(final String descr) {
        final String normalized = descr.length() == 3 && descr.charAt(2) == '1' && descr.charAt(0) == '<'
            ? "|" + descr.substring(1) : descr;
        for (final DType type : values()) {
            if (type.npyDescr.equals(normalized)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unsupported NPY dtype '" + descr + "'");
    }
}
