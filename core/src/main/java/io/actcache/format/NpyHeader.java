package io.actcache.format;

import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.InvalidShapeException;
import io.actcache.StoreIOException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The header of an NPY file (numpy's {@code .npy} format), as read by {@link #parse} or {@link #read} and written
 * by {@link #encodePadded}. All integers are little-endian.
 *
 * <pre>
 * v1.0 (v2.0 and v3.0 widen HEADER_LEN to a u32 at offset 8, so their dict text starts at 12):
 *
 *    0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 Magic 0x93 'N' 'U' 'M' 'P' 'Y'                |  0
 *  +                               +---------------+---------------+
 *  |                               |   Major (u8)  |   Minor (u8)  |  4
 *  +-------------------------------+---------------+---------------+
 *  |        HEADER_LEN (u16)       |           Dict text           |  8
 *  +-------------------------------+                               +
 *  |         ... HEADER_LEN bytes, space padded, '\n' last         |  12
 *  +---------------------------------------------------------------+
 *  |                   Element data, C order ...                   |  dataOffset
 *  +---------------------------------------------------------------+
 *
 *  offset       width       type     meaning
 *  0            6           bytes    magic: 0x93 'N' 'U' 'M' 'P' 'Y'
 *  6            1           u8       major version: 1, 2 or 3 (3 only changes the text encoding to UTF-8)
 *  7            1           u8       minor version: 0
 *  8            2 (v1.0)    u16      HEADER_LEN: bytes of dict text that follow
 *  8            4 (v2, v3)  u32      HEADER_LEN
 *  10 or 12     HEADER_LEN  text     Python dict literal, Latin-1 (v1, v2) or UTF-8 (v3), space padded, '\n' last:
 *                                    {'descr': '&lt;f4', 'fortran_order': False, 'shape': (8, 128, 768), }
 *  dataOffset   ...         data     the elements; dataOffset = 10 or 12 + HEADER_LEN
 * </pre>
 *
 * <p>numpy pads the header so that {@code dataOffset} is a multiple of 64; actcache's store columns pad it to
 * 4096 so the data starts on a page boundary. Readers accept any padding.
 *
 * <p>Only little-endian, C-order arrays of the {@link DType} types are read: a Fortran-order array, a big-endian
 * dtype or another dtype (strings, objects, structured) throws {@link UnsupportedFormatException}. numpy has no
 * bfloat16, so {@code <u2} reads as {@link DType#BF16}, the form actcache writes. Immutable and thread-safe.
 */
public final class NpyHeader {
    /** Offset of the 6-byte magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Length of the magic. */
    public static final int MAGIC_LENGTH = 6;
    /** Offset of the major version byte. */
    public static final int MAJOR_VERSION_OFFSET = MAGIC_OFFSET + MAGIC_LENGTH;
    /** Offset of the minor version byte. */
    public static final int MINOR_VERSION_OFFSET = MAJOR_VERSION_OFFSET + 1;
    /** Offset of HEADER_LEN, a u16 in v1.0 and a u32 in v2.0 and v3.0. */
    public static final int HEADER_LENGTH_OFFSET = MINOR_VERSION_OFFSET + 1;
    /** Offset of the dict text in a v1.0 header. */
    public static final int V1_TEXT_OFFSET = HEADER_LENGTH_OFFSET + 2;
    /** Offset of the dict text in a v2.0 or v3.0 header. */
    public static final int V2_TEXT_OFFSET = HEADER_LENGTH_OFFSET + 4;
    /** numpy requires the total header size, and so the data offset, to be a multiple of this. */
    public static final int ALIGNMENT = 64;
    /** Newest major version this class reads. */
    public static final int MAX_MAJOR_VERSION = 3;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int MAX_V1_HEADER_LENGTH = 0xFFFF;
    private static final int MAX_QUOTED_DICT = 200;
    /** Far above any header this class accepts (rank 8 needs under 300 bytes); numpy's own default is 10000. */
    private static final int MAX_HEADER_SIZE = 1 << 20;

    private final DType dtype;
    private final Shape shape;
    private final boolean fortranOrder;
    private final long dataOffset;
    private final int majorVersion;

    private NpyHeader(final DType dtype, final Shape shape, final boolean fortranOrder, final long dataOffset,
        final int majorVersion) {
        this.dtype = dtype;
        this.shape = shape;
        this.fortranOrder = fortranOrder;
        this.dataOffset = dataOffset;
        this.majorVersion = majorVersion;
    }

    /** @return the element type; {@code <u2} reads as {@link DType#BF16}. */
    public DType dtype() {
        return dtype;
    }

    /** @return the array shape. */
    public Shape shape() {
        return shape;
    }

    /** @return the {@code fortran_order} flag; always false, as Fortran-order files are refused. */
    public boolean fortranOrder() {
        return fortranOrder;
    }

    /** @return the file offset of the first data byte: the total header size. */
    public long dataOffset() {
        return dataOffset;
    }

    /** @return the format's major version: 1, 2 or 3. */
    public int majorVersion() {
        return majorVersion;
    }

    /** @return the number of data bytes the shape and dtype call for. */
    public long dataByteSize() {
        return shape.byteSize(dtype);
    }

    /** @return version, dtype, shape and data offset. */
    @Override
    public String toString() {
        return "NpyHeader[v" + majorVersion + ".0 " + dtype + " " + shape + " data at " + dataOffset + "]";
    }

    /**
     * Encodes a v1.0 header padded with spaces to exactly {@code totalSize} bytes, so the data that follows starts
     * at {@code totalSize}.
     *
     * @param dtype     element type; its {@link DType#npyDescr()} is written ({@code <u2} for BF16).
     * @param shape     array shape.
     * @param totalSize header size in bytes: a positive multiple of {@value #ALIGNMENT}, at most 65536 + 10 - 64.
     * @return a little-endian heap buffer, position 0, limit {@code totalSize}.
     * @throws IllegalArgumentException when {@code totalSize} is not a multiple of 64, exceeds the u16 HEADER_LEN
     *                                  of v1.0, or is too small for the dict text.
     */
    public static ByteBuffer encodePadded(final DType dtype, final Shape shape, final int totalSize) {
        if (totalSize <= 0 || totalSize % ALIGNMENT != 0) {
            throw new IllegalArgumentException(
                "NPY header size " + totalSize + " is not a positive multiple of " + ALIGNMENT);
        }
        if (totalSize - V1_TEXT_OFFSET > MAX_V1_HEADER_LENGTH) {
            throw new IllegalArgumentException("NPY header size " + totalSize + " gives HEADER_LEN "
                + (totalSize - V1_TEXT_OFFSET) + ", above the v1.0 u16 maximum " + MAX_V1_HEADER_LENGTH);
        }
        final byte[] dict = dictText(dtype, shape).getBytes(StandardCharsets.ISO_8859_1);
        final int needed = V1_TEXT_OFFSET + dict.length + 1;
        if (needed > totalSize) {
            throw new IllegalArgumentException("NPY header for " + dtype + " " + shape + " needs " + needed
                + " bytes, more than the requested size " + totalSize);
        }
        final ByteBuffer out = ByteBuffer.allocate(totalSize).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) (totalSize - V1_TEXT_OFFSET)).put(dict);
        while (out.position() < totalSize - 1) {
            out.put((byte) ' ');
        }
        out.put((byte) '\n');
        return out.flip();
    }

    /**
     * Encodes the smallest v1.0 header for this dtype and shape: the dict text padded with spaces to the next
     * multiple of {@value #ALIGNMENT} bytes, the alignment numpy requires (numpy itself also leaves room for dim 0 to
     * grow). For files exported for numpy, not store columns.
     *
     * @param dtype element type.
     * @param shape array shape.
     * @return a little-endian heap buffer, position 0, limit at the end of the header.
     */
    public static ByteBuffer encode(final DType dtype, final Shape shape) {
        final int needed = variablePrefixLength(dtype, shape) + 1;
        return encodePadded(dtype, shape, (needed + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    }

    /**
     * Bytes from offset 0 to the end of the dict text, before the padding, of any
     * {@link #encodePadded(DType, Shape, int)} header for this dtype and shape.
     *
     * <p>A store rewrites its header after every append, and dim 0 only grows, so the text only grows. When the
     * new text is at least as long as the one on disk and the total size is the same, writing just this prefix of
     * the new header leaves the same bytes as rewriting the whole header: both are followed by padding.
     *
     * @param dtype element type.
     * @param shape array shape.
     * @return the length of the prefix that differs between headers of the same total size.
     */
    public static int variablePrefixLength(final DType dtype, final Shape shape) {
        return V1_TEXT_OFFSET + dictText(dtype, shape).length();
    }

    /**
     * Parses a v1.0, v2.0 or v3.0 header starting at the buffer's position; the buffer's position, limit and byte
     * order are left unchanged.
     *
     * @param bytes    at least the whole header.
     * @param resource the file, for messages.
     * @return the header.
     * @throws CorruptFileException       naming the resource, offset and expected versus actual values on a wrong
     *                                    magic, a truncated header or a malformed dict.
     * @throws FormatTooNewException      for a version above 3.0.
     * @throws UnsupportedFormatException for Fortran order, a big-endian or unsupported dtype, or rank above 8.
     */
    public static NpyHeader parse(final ByteBuffer bytes, final String resource) {
        final ByteBuffer in = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        final long headerEnd = declaredHeaderEnd(in, resource);
        final int major = in.get(MAJOR_VERSION_OFFSET) & 0xFF;
        final int textOffset = textOffset(major);
        if (headerEnd > in.limit()) {
            throw truncated(resource, "the header declares HEADER_LEN " + (headerEnd - textOffset) + " from offset "
                + textOffset + ", ending at " + headerEnd + ", but only " + in.limit() + " bytes are present");
        }
        final byte[] raw = new byte[(int) (headerEnd - textOffset)];
        in.get(textOffset, raw);
        final String text = decode(raw, major, resource, textOffset);
        final DictParser dict = new DictParser(text, resource, textOffset, major);
        dict.parse();
        return build(dict, headerEnd, major, resource);
    }

    /**
     * Reads and parses the header at the start of a file with positional reads; the channel's position is not
     * used or moved.
     *
     * @param ch       an NPY file open for reading.
     * @param resource the file, for messages.
     * @return the header.
     * @throws CorruptFileException       as for {@link #parse(ByteBuffer, String)}, also when the file ends early.
     * @throws FormatTooNewException      for a version above 3.0.
     * @throws UnsupportedFormatException as for {@link #parse(ByteBuffer, String)}.
     * @throws StoreIOException           naming the resource when reading fails.
     */
    public static NpyHeader read(final FileChannel ch, final String resource) {
        try {
            final long size = ch.size();
            final ByteBuffer prefix = ByteBuffer.allocate((int) Math.min(V2_TEXT_OFFSET, size));
            readFully(ch, prefix);
            final long headerEnd = declaredHeaderEnd(prefix.flip().order(ByteOrder.LITTLE_ENDIAN), resource);
            final ByteBuffer header = ByteBuffer.allocate((int) Math.min(headerEnd, size));
            readFully(ch, header);
            return parse(header.flip(), resource);
        } catch (final IOException e) {
            throw new StoreIOException(resource + ": reading the NPY header failed", e);
        }
    }

    private static void readFully(final FileChannel ch, final ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (ch.read(dst, dst.position()) < 0) {
                return; // the caller's length checks report the truncation
            }
        }
    }

    /** Checks the magic, version and length field; returns the declared header size (data offset). */
    private static long declaredHeaderEnd(final ByteBuffer in, final String resource) {
        if (in.limit() < V1_TEXT_OFFSET) {
            throw truncated(resource, "needs at least " + V1_TEXT_OFFSET
                + " bytes for the magic, version and HEADER_LEN, found " + in.limit());
        }
        for (int i = 0; i < MAGIC_LENGTH; i++) {
            if (in.get(MAGIC_OFFSET + i) != MAGIC[i]) {
                throw new CorruptFileException(resource + ": not an NPY file: expected magic " + hex(MAGIC, 0, 6)
                    + " (\\x93NUMPY) at offset " + MAGIC_OFFSET + ", found " + hex(in, MAGIC_OFFSET, MAGIC_LENGTH));
            }
        }
        final int major = in.get(MAJOR_VERSION_OFFSET) & 0xFF;
        final int minor = in.get(MINOR_VERSION_OFFSET) & 0xFF;
        checkVersion(major, minor, resource);
        final int textOffset = textOffset(major);
        if (in.limit() < textOffset) {
            throw truncated(resource, "version " + major + ".0 needs " + textOffset
                + " bytes for the magic, version and HEADER_LEN, found " + in.limit());
        }
        final long headerLength = major == 1
            ? in.getShort(HEADER_LENGTH_OFFSET) & 0xFFFFL
            : in.getInt(HEADER_LENGTH_OFFSET) & 0xFFFF_FFFFL;
        final long headerEnd = textOffset + headerLength;
        if (headerEnd > MAX_HEADER_SIZE) {
            throw new CorruptFileException(resource + ": NPY HEADER_LEN " + headerLength + " at offset "
                + HEADER_LENGTH_OFFSET + " is implausibly large: expected at most " + (MAX_HEADER_SIZE - textOffset));
        }
        return headerEnd;
    }

    private static void checkVersion(final int major, final int minor, final String resource) {
        if (major > MAX_MAJOR_VERSION || (major >= 1 && minor != 0)) {
            throw new FormatTooNewException(resource + ": NPY format version " + major + "." + minor + " at offset "
                + MAJOR_VERSION_OFFSET + " is newer than this build reads (1.0, 2.0 and 3.0)");
        }
        if (major == 0) {
            throw new CorruptFileException(resource + ": unknown NPY format version " + major + "." + minor
                + " at offset " + MAJOR_VERSION_OFFSET + "; expected 1.0, 2.0 or 3.0");
        }
    }

    private static int textOffset(final int major) {
        return major == 1 ? V1_TEXT_OFFSET : V2_TEXT_OFFSET;
    }

    private static String decode(final byte[] raw, final int major, final String resource, final int textOffset) {
        if (major < 3) {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(raw))
                .toString();
        } catch (final CharacterCodingException e) {
            throw new CorruptFileException(
                resource + ": NPY 3.0 header text at offset " + textOffset + " is not valid UTF-8", e);
        }
    }

    private static NpyHeader build(
        final DictParser dict, final long headerEnd, final int major, final String resource) {
        final DType dtype = dtypeOf(dict.descr, resource);
        if (dict.fortranOrder) {
            throw new UnsupportedFormatException(resource + ": Fortran-order arrays are not supported; save with "
                + "np.ascontiguousarray");
        }
        if (dict.dims.length > Shape.MAX_RANK) {
            throw new UnsupportedFormatException(resource + ": NPY array of rank " + dict.dims.length + " is not "
                + "supported; the maximum rank is " + Shape.MAX_RANK);
        }
        final Shape shape;
        try {
            shape = Shape.of(dict.dims);
            shape.byteSize(dtype);
        } catch (final InvalidShapeException e) {
            throw new CorruptFileException(resource + ": NPY header shape is invalid: " + e.getMessage(), e);
        }
        return new NpyHeader(dtype, shape, false, headerEnd, major);
    }

    private static DType dtypeOf(final String descr, final String resource) {
        if (descr.length() > 1 && descr.charAt(0) == '>') {
            final String little = '<' + descr.substring(1);
            final DType type = lookUp(little);
            if (type != null && type.byteWidth() == 1) {
                return type; // byte order is meaningless for one byte
            }
            if (type != null) {
                throw new UnsupportedFormatException(resource + ": big-endian dtype '" + descr + "' is not supported; "
                    + "convert with arr.astype('" + little + "')");
            }
        }
        final DType type = lookUp(descr);
        if (type == null) {
            throw new UnsupportedFormatException(resource + ": NPY dtype '" + descr + "' is not supported; actcache "
                + "reads <f4, <f2, <u2 (as BF16), <f8, <i8, <i4, <i2, |i1, |u1 and |b1");
        }
        return type;
    }

    private static DType lookUp(final String descr) {
        try {
            return DType.fromNpyDescr(descr);
        } catch (final IllegalArgumentException e) {
            return null;
        }
    }

    private static String dictText(final DType dtype, final Shape shape) {
        final StringBuilder text = new StringBuilder(64 + 21 * shape.rank());
        text.append("{'descr': '").append(dtype.npyDescr()).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.rank(); i++) {
            text.append(i == 0 ? "" : ", ").append(shape.dim(i));
        }
        return text.append(shape.rank() == 1 ? ",), }" : "), }").toString();
    }

    private static CorruptFileException truncated(final String resource, final String detail) {
        return new CorruptFileException(resource + ": truncated NPY header: " + detail);
    }

    private static String hex(final byte[] bytes, final int from, final int length) {
        return hex(ByteBuffer.wrap(bytes), from, length);
    }

    private static String hex(final ByteBuffer bytes, final int from, final int length) {
        final StringBuilder text = new StringBuilder();
        for (int i = from; i < from + length; i++) {
            text.append(i == from ? "" : " ").append(String.format("%02X", bytes.get(i) & 0xFF));
        }
        return text.toString();
    }

    /**
     * A strict parser for the dict literal numpy writes: the keys {@code 'descr'}, {@code 'fortran_order'} and
     * {@code 'shape'} once each in any order, string, boolean and tuple-of-int values, an optional trailing comma,
     * then only spaces and newlines. Integers may carry the {@code L} suffix of files written by Python 2.
     */
    private static final class DictParser {
        private final String text;
        private final String resource;
        private final int textOffset;
        private final int major;
        private int pos;
        private String descr;
        private Boolean fortranOrderValue;
        private boolean fortranOrder;
        private long[] dims;

        DictParser(final String text, final String resource, final int textOffset, final int major) {
            this.text = text;
            this.resource = resource;
            this.textOffset = textOffset;
            this.major = major;
        }

        void parse() {
            skipSpaces();
            expect('{');
            skipSpaces();
            while (peek() != '}') {
                entry();
                skipSpaces();
                if (peek() == ',') {
                    pos++;
                    skipSpaces();
                } else if (peek() != '}') {
                    throw malformed("expected ',' or '}' after a value");
                }
            }
            pos++;
            while (pos < text.length()) {
                final char c = text.charAt(pos);
                if (c != ' ' && c != '\n') {
                    throw malformed("expected only spaces and a newline after '}'");
                }
                pos++;
            }
            if (descr == null || fortranOrderValue == null || dims == null) {
                throw new CorruptFileException(resource + ": malformed NPY header dict at offset " + textOffset
                    + ": expected keys 'descr', 'fortran_order' and 'shape', missing"
                    + (descr == null ? " 'descr'" : "") + (fortranOrderValue == null ? " 'fortran_order'" : "")
                    + (dims == null ? " 'shape'" : "") + "; dict: " + quoted());
            }
            fortranOrder = fortranOrderValue;
        }

        private void entry() {
            final int keyStart = pos;
            final String key = string();
            skipSpaces();
            expect(':');
            skipSpaces();
            switch (key) {
                case "descr":
                    checkNew(descr, key, keyStart);
                    if (peek() == '[') {
                        throw new UnsupportedFormatException(resource + ": structured NPY dtypes (a list descr) are "
                            + "not supported; save a plain array of one numeric dtype");
                    }
                    descr = string();
                    break;
                case "fortran_order":
                    checkNew(fortranOrderValue, key, keyStart);
                    fortranOrderValue = bool();
                    break;
                case "shape":
                    checkNew(dims, key, keyStart);
                    dims = tuple();
                    break;
                default:
                    pos = keyStart;
                    throw malformed("expected key 'descr', 'fortran_order' or 'shape', found '" + key + "'");
            }
        }

        private void checkNew(final Object previous, final String key, final int keyStart) {
            if (previous != null) {
                pos = keyStart;
                throw malformed("key '" + key + "' appears twice");
            }
        }

        private String string() {
            final char quote = peek();
            if (quote != '\'' && quote != '"') {
                throw malformed("expected a quoted string");
            }
            final int start = ++pos;
            while (pos < text.length() && text.charAt(pos) != quote) {
                if (text.charAt(pos) == '\\' || text.charAt(pos) == '\n') {
                    throw malformed("expected a plain string without escapes or newlines");
                }
                pos++;
            }
            if (pos >= text.length()) {
                pos = start - 1;
                throw malformed("expected a closing " + quote + " for the string");
            }
            return text.substring(start, pos++);
        }

        private boolean bool() {
            if (text.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (text.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw malformed("expected True or False");
        }

        private long[] tuple() {
            expect('(');
            skipSpaces();
            long[] values = new long[4];
            int count = 0;
            while (peek() != ')') {
                if (count == values.length) {
                    values = java.util.Arrays.copyOf(values, count * 2);
                }
                values[count++] = integer();
                skipSpaces();
                if (peek() == ',') {
                    pos++;
                    skipSpaces();
                } else if (peek() != ')') {
                    throw malformed("expected ',' or ')' in the shape tuple");
                } else if (count == 1) {
                    throw malformed("expected ',' after the only element of a 1-tuple, as in (5,)");
                }
            }
            pos++;
            return java.util.Arrays.copyOf(values, count);
        }

        private long integer() {
            final int start = pos;
            while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
                pos++;
            }
            if (pos == start || (pos - start > 1 && text.charAt(start) == '0')) {
                pos = start;
                throw malformed("expected a non-negative decimal integer without leading zeros");
            }
            final long value;
            try {
                value = Long.parseLong(text.substring(start, pos));
            } catch (final NumberFormatException e) {
                pos = start;
                throw malformed("expected a dimension that fits a long");
            }
            if (pos < text.length() && text.charAt(pos) == 'L') {
                pos++; // Python 2 long suffix
            }
            return value;
        }

        private void expect(final char c) {
            if (peek() != c) {
                throw malformed("expected '" + c + "'");
            }
            pos++;
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void skipSpaces() {
            while (pos < text.length() && text.charAt(pos) == ' ') {
                pos++;
            }
        }

        private CorruptFileException malformed(final String expected) {
            final String found = pos < text.length() ? "'" + printable(text.charAt(pos)) + "'" : "the end of the text";
            final int offset = textOffset + (major < 3 ? pos
                : text.substring(0, pos).getBytes(StandardCharsets.UTF_8).length);
            return new CorruptFileException(resource + ": malformed NPY header dict at offset " + offset
                + " (character " + pos + " of the dict): " + expected + ", found " + found + "; dict: " + quoted());
        }

        private String quoted() {
            final String trimmed = text.strip();
            return trimmed.length() <= MAX_QUOTED_DICT ? trimmed : trimmed.substring(0, MAX_QUOTED_DICT) + "...";
        }

        private static String printable(final char c) {
            return c >= ' ' && c < 0x7F ? String.valueOf(c) : String.format("\\u%04x", (int) c);
        }
    }
}
