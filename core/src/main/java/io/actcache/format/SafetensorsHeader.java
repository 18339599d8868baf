package io.actcache.format;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.actcache.BadFileFormatException;
import io.actcache.CapacityExceededException;
import io.actcache.InvalidShapeException;
import io.actcache.StoreIOException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The header of a safetensors file (Hugging Face's format), parsed and fully validated by {@link #parse} or
 * {@link #read}, and encoded by {@link #encode}.
 *
 * <pre>
 *    0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                N: JSON header length (u64, LE)                |  0
 *  +                                                               +
 *  |                                                               |  4
 *  +---------------------------------------------------------------+
 *  |        JSON header, UTF-8, N bytes (writers pad it with       |  8
 *  |        spaces so that 8 + N is a multiple of 8)  ...          |
 *  +---------------------------------------------------------------+
 *  |  byte buffer: every tensor's data, little-endian, C order,    |  8 + N
 *  |  at data_offsets relative to the buffer's start ...           |
 *  +---------------------------------------------------------------+
 *
 *  {"__metadata__": {"name": "value", ...},                           optional, string to string
 *   "resid_out_0": {"dtype": "F32", "shape": [2, 16, 64], "data_offsets": [0, 8192]}, ...}
 * </pre>
 *
 * <p>What is checked, each failure a {@link BadFileFormatException} naming the file and, where one is at fault,
 * the tensor: the file holds the 8-byte length; N is at most {@value #MAX_HEADER_LENGTH} (the reference
 * implementation's limit) and the header fits in the file; the header is strict UTF-8, starts with {@code '{'} and
 * is one JSON object (nothing but whitespace after it); no name appears twice (the spec forbids duplicates; JSON
 * parsers differ on them); {@code __metadata__} maps strings to strings; each tensor has a known {@code dtype}, a
 * {@code shape} of non-negative integers and {@code data_offsets} of two non-negative integers, begin before end,
 * whose difference is exactly the shape's byte size; taken in offset order, the tensors start at 0, follow each
 * other without gap or overlap, and end exactly at the end of the file. A tensor of a dtype the spec defines but
 * actcache does not hold ({@code F8_E4M3}, {@code U16}, ...) or of rank above 8 is an
 * {@link UnsupportedFormatException} naming the dtype. Unknown fields inside a tensor entry are ignored, as the
 * reference implementation ignores them. The order of entries in the JSON need not be the offset order (older
 * writers sorted by name); {@link #entries()} keeps the header's order.
 *
 * <p>The header is parsed with Jackson's streaming parser, holding only the header text and the entries. Immutable
 * and thread-safe.
 */
public final class SafetensorsHeader {
    /** Offset of the u64 header length N. */
    public static final int LENGTH_OFFSET = 0;
    /** Width of the header length field. */
    public static final int LENGTH_SIZE = Long.BYTES;
    /** Offset of the JSON header. */
    public static final int JSON_OFFSET = LENGTH_OFFSET + LENGTH_SIZE;
    /** Largest accepted N, in bytes: the limit of the reference implementation. */
    public static final long MAX_HEADER_LENGTH = 100_000_000L;
    /** Writers pad the header with spaces so that the byte buffer starts at a multiple of this. */
    public static final int ALIGNMENT = 8;
    /** The reserved name of the string-to-string metadata map. */
    public static final String METADATA_KEY = "__metadata__";

    /** Dtypes the safetensors specification defines that actcache does not hold: refused by name. */
    private static final Set<String> OTHER_SPEC_DTYPES = Set.of(
        "U16", "U32", "U64", "C64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "F4", "F6_E2M3",
        "F6_E3M2");
    private static final int MAX_QUOTED = 120;
    private static final JsonFactory JSON = JsonFactory.builder()
        .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
        .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxStringLength((int) MAX_HEADER_LENGTH).maxNameLength((int) MAX_HEADER_LENGTH).build())
        .build();

    /**
     * One tensor of the header.
     *
     * @param name  the tensor's name.
     * @param dtype element type.
     * @param shape shape.
     * @param begin first byte, relative to the byte buffer.
     * @param end   one past the last byte, relative to the byte buffer.
     */
    public record Entry(String name, DType dtype, Shape shape, long begin, long end) {
        /** @return bytes of data: {@code end - begin}. */
        public long byteSize() {
            return end - begin;
        }
    }

    private final List<Entry> entries;
    private final Map<String, String> metadata;
    private final long headerLength;
    private final long dataLength;

    private SafetensorsHeader(final List<Entry> entries, final Map<String, String> metadata, final long headerLength,
        final long dataLength) {
        this.entries = Collections.unmodifiableList(entries);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.headerLength = headerLength;
        this.dataLength = dataLength;
    }

    /** @return the tensors in the header's order. */
    public List<Entry> entries() {
        return entries;
    }

    /** @return the {@code __metadata__} map in the header's order; empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** @return N, the JSON header's length in bytes. */
    public long headerLength() {
        return headerLength;
    }

    /** @return the file offset of the byte buffer: {@code 8 + N}. */
    public long dataOffset() {
        return JSON_OFFSET + headerLength;
    }

    /** @return bytes in the byte buffer: the sum of every tensor's bytes. */
    public long dataLength() {
        return dataLength;
    }

    /** @return the file size this header describes: {@code 8 + N + dataLength()}. */
    public long fileSize() {
        return dataOffset() + dataLength;
    }

    /** @return the tensor count and data size. */
    @Override
    public String toString() {
        return "SafetensorsHeader[" + entries.size() + " tensors, " + metadata.size() + " metadata entries, header "
            + headerLength + " bytes, data " + dataLength + " bytes]";
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Parses and validates a whole safetensors file held in memory: the entry point for fuzzing.
     *
     * @param file     the file's bytes between position and limit; position, limit and order are left unchanged.
     * @param resource the file, for messages.
     * @return the header.
     * @throws BadFileFormatException      naming the resource (and tensor) for any malformed or inconsistent header.
     * @throws UnsupportedFormatException naming the tensor and dtype for a valid dtype actcache does not hold.
     */
    public static SafetensorsHeader parse(final ByteBuffer file, final String resource) {
        return parse(file, file.remaining(), resource);
    }

    /**
     * Parses and validates the header of a file of {@code fileSize} bytes whose beginning is in {@code prefix}.
     *
     * @param prefix   at least the first {@code min(fileSize, 8 + N)} bytes of the file, from its position;
     *                 position, limit and order are left unchanged.
     * @param fileSize the file's size, against which the header length and data offsets are checked.
     * @param resource the file, for messages.
     * @return the header.
     * @throws BadFileFormatException      naming the resource (and tensor) for any malformed or inconsistent header.
     * @throws UnsupportedFormatException naming the tensor and dtype for a valid dtype actcache does not hold.
     * @throws IllegalArgumentException    when {@code prefix} holds fewer bytes than the file has and the header needs.
     */
    public static SafetensorsHeader parse(final ByteBuffer prefix, final long fileSize, final String resource) {
        final ByteBuffer in = prefix.slice().order(ByteOrder.LITTLE_ENDIAN);
        final long length = headerLength(in, fileSize, resource);
        if (in.remaining() < JSON_OFFSET + length) {
            throw new IllegalArgumentException("the prefix holds " + in.remaining() + " bytes of " + resource
                + ", the header needs " + (JSON_OFFSET + length));
        }
        final String text = decode(in.slice(JSON_OFFSET, (int) length), resource);
        final List<Entry> entries = new ArrayList<>();
        final Map<String, String> metadata = new LinkedHashMap<>();
        parseJson(text, resource, entries, metadata);
        final long dataLength = fileSize - JSON_OFFSET - length;
        checkLayout(entries, dataLength, resource);
        return new SafetensorsHeader(entries, metadata, length, dataLength);
    }

    /**
     * Reads and validates the header of a file with positional reads (the channel's position is not used).
     *
     * @param channel  a safetensors file open for reading.
     * @param resource the file, for messages.
     * @return the header.
     * @throws BadFileFormatException      as for {@link #parse(ByteBuffer, long, String)}.
     * @throws UnsupportedFormatException as for {@link #parse(ByteBuffer, long, String)}.
     * @throws StoreIOException            naming the resource when reading fails.
     */
    public static SafetensorsHeader read(final FileChannel channel, final String resource) {
        try {
            final long size = channel.size();
            final ByteBuffer first = ByteBuffer.allocate((int) Math.min(JSON_OFFSET, size));
            readFully(channel, first, 0);
            final long length = headerLength(first.flip().order(ByteOrder.LITTLE_ENDIAN), size, resource);
            final ByteBuffer header = ByteBuffer.allocate((int) (JSON_OFFSET + length));
            readFully(channel, header, 0);
            if (header.hasRemaining()) {
                throw new BadFileFormatException(resource + ": truncated while reading: the file shrank to "
                    + header.position() + " bytes while its " + header.capacity() + "-byte header was read");
            }
            return parse(header.flip(), size, resource);
        } catch (final IOException e) {
            throw new StoreIOException(resource + ": reading the safetensors header failed: " + e, e);
        }
    }

    /**
     * Reads and checks the 8-byte header length N.
     *
     * @return N, at most {@value #MAX_HEADER_LENGTH} and such that the header fits in the file.
     */
    private static long headerLength(final ByteBuffer in, final long fileSize, final String resource) {
        if (fileSize < JSON_OFFSET) {
            throw new BadFileFormatException(resource + ": truncated: the file holds " + fileSize + " bytes, fewer than "
                + "the " + LENGTH_SIZE + "-byte header length a safetensors file starts with");
        }
        if (in.remaining() < JSON_OFFSET) {
            throw new IllegalArgumentException("the prefix of " + resource + " holds " + in.remaining()
                + " bytes, fewer than the 8-byte header length");
        }
        final long length = in.getLong(LENGTH_OFFSET);
        if (length < 0 || length > MAX_HEADER_LENGTH) {
            throw new BadFileFormatException(resource + ": header length " + Long.toUnsignedString(length)
                + " at offset 0 is above the limit of " + MAX_HEADER_LENGTH + " bytes (not a safetensors file?)");
        }
        if (JSON_OFFSET + length > fileSize) {
            throw new BadFileFormatException(resource + ": header length " + length + " at offset 0 extends beyond the "
                + "end of the file: the header would end at byte " + (JSON_OFFSET + length) + ", the file holds "
                + fileSize + " bytes (truncated?)");
        }
        return length;
    }

    private static String decode(final ByteBuffer json, final String resource) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(json)
                .toString();
        } catch (final CharacterCodingException e) {
            throw new BadFileFormatException(resource + ": the JSON header is not valid UTF-8: " + e, e);
        }
    }

    private static void parseJson(final String text, final String resource, final List<Entry> entries,
        final Map<String, String> metadata) {
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new BadFileFormatException(resource + ": the JSON header must start with '{', found "
                + (text.isEmpty() ? "an empty header" : "'" + printable(text.charAt(0)) + "'") + " at offset "
                + JSON_OFFSET);
        }
        final Set<String> names = new HashSet<>();
        try (JsonParser json = JSON.createParser(text)) {
            json.nextToken();
            JsonToken token;
            while ((token = json.nextToken()) == JsonToken.FIELD_NAME) {
                final String name = json.currentName();
                if (!names.add(name)) {
                    throw new BadFileFormatException(resource + ": " + describe(name) + " appears twice in the header;"
                        + " the safetensors format forbids duplicate names");
                }
                json.nextToken();
                if (METADATA_KEY.equals(name)) {
                    readMetadata(json, resource, metadata);
                } else {
                    entries.add(readEntry(json, name, resource));
                }
            }
            if (token != JsonToken.END_OBJECT) {
                throw invalidJson(resource, json, "expected a tensor name or '}', found " + token);
            }
            final JsonToken trailing = json.nextToken();
            if (trailing != null) {
                throw invalidJson(resource, json, "expected only whitespace after the header object, found " + trailing);
            }
        } catch (final JsonProcessingException e) {
            throw new BadFileFormatException(resource + ": the header is not valid JSON: " + e.getOriginalMessage()
                + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                + e.getLocation().getColumnNr()), e);
        } catch (final IOException e) {
            throw new UncheckedIOException("reading JSON from a string failed", e);
        }
    }

    private static void readMetadata(final JsonParser json, final String resource, final Map<String, String> out)
        throws IOException {
        if (json.currentToken() == JsonToken.VALUE_NULL) {
            return; // the reference implementation reads a null __metadata__ as absent
        }
        if (json.currentToken() != JsonToken.START_OBJECT) {
            throw invalidJson(resource, json, METADATA_KEY + " must be an object of strings, found "
                + json.currentToken());
        }
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String name = json.currentName();
            if (json.nextToken() != JsonToken.VALUE_STRING) {
                throw invalidJson(resource, json, METADATA_KEY + " entry " + quote(name) + " must be a string, found "
                    + json.currentToken());
            }
            if (out.put(name, json.getText()) != null) {
                throw new BadFileFormatException(resource + ": " + METADATA_KEY + " entry " + quote(name)
                    + " appears twice");
            }
        }
    }

    private static Entry readEntry(final JsonParser json, final String name, final String resource)
        throws IOException {
        if (json.currentToken() != JsonToken.START_OBJECT) {
            throw invalidJson(resource, json, "tensor " + quote(name) + " must be an object with dtype, shape and "
                + "data_offsets, found " + json.currentToken());
        }
        String dtypeName = null;
        long[] dims = null;
        long[] offsets = null;
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String field = json.currentName();
            json.nextToken();
            switch (field) {
                case "dtype":
                    checkNew(dtypeName, field, name, resource);
                    if (json.currentToken() != JsonToken.VALUE_STRING) {
                        throw invalidJson(resource, json, "tensor " + quote(name) + ": dtype must be a string, found "
                            + json.currentToken());
                    }
                    dtypeName = json.getText();
                    break;
                case "shape":
                    checkNew(dims, field, name, resource);
                    dims = integers(json, name, field, resource);
                    break;
                case "data_offsets":
                    checkNew(offsets, field, name, resource);
                    offsets = integers(json, name, field, resource);
                    break;
                default:
                    json.skipChildren();
            }
        }
        if (dtypeName == null || dims == null || offsets == null) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + " lacks"
                + (dtypeName == null ? " 'dtype'" : "") + (dims == null ? " 'shape'" : "")
                + (offsets == null ? " 'data_offsets'" : "") + "; each tensor needs dtype, shape and data_offsets");
        }
        return entry(name, dtypeOf(dtypeName, name, resource), dims, offsets, resource);
    }

    private static void checkNew(final Object previous, final String field, final String name, final String resource) {
        if (previous != null) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + " has '" + field + "' twice");
        }
    }

    private static long[] integers(final JsonParser json, final String name, final String field,
        final String resource) throws IOException {
        if (json.currentToken() != JsonToken.START_ARRAY) {
            throw invalidJson(resource, json, "tensor " + quote(name) + ": " + field + " must be an array of integers, "
                + "found " + json.currentToken());
        }
        long[] values = new long[4];
        int count = 0;
        JsonToken token;
        while ((token = json.nextToken()) != JsonToken.END_ARRAY) {
            if (token != JsonToken.VALUE_NUMBER_INT) {
                throw invalidJson(resource, json, "tensor " + quote(name) + ": " + field + " must hold non-negative "
                    + "integers, found " + token + (token == JsonToken.VALUE_NUMBER_FLOAT ? " " + json.getText() : ""));
            }
            if (json.getNumberType() == JsonParser.NumberType.BIG_INTEGER || json.getLongValue() < 0) {
                throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": " + field + " value "
                    + json.getText() + " is out of range [0, " + Long.MAX_VALUE + "]");
            }
            if ("shape".equals(field) && count == Shape.MAX_RANK) {
                throw new UnsupportedFormatException(resource + ": tensor " + quote(name) + " has rank above "
                    + Shape.MAX_RANK + "; actcache supports ranks up to " + Shape.MAX_RANK);
            }
            if (!"shape".equals(field) && count == 2) {
                throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": " + field
                    + " must be [begin, end], found more than 2 values");
            }
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            values[count++] = json.getLongValue();
        }
        return Arrays.copyOf(values, count);
    }

    private static DType dtypeOf(final String dtype, final String name, final String resource) {
        for (final DType type : DType.values()) {
            if (type.safetensorsName().equals(dtype)) {
                return type;
            }
        }
        if (OTHER_SPEC_DTYPES.contains(dtype)) {
            throw new UnsupportedFormatException(resource + ": tensor " + quote(name) + " has dtype " + dtype + ", which "
                + "safetensors defines but actcache does not hold; supported: " + supported()
                + " (convert it first, e.g. tensor.to(torch.float32))");
        }
        throw new BadFileFormatException(resource + ": tensor " + quote(name) + " has unknown dtype " + quote(dtype)
            + ": not a safetensors dtype; actcache reads " + supported());
    }

    private static String supported() {
        final StringBuilder names = new StringBuilder();
        for (final DType type : DType.values()) {
            names.append(names.length() == 0 ? "" : ", ").append(type.safetensorsName());
        }
        return names.toString();
    }

    private static Entry entry(final String name, final DType dtype, final long[] dims, final long[] offsets,
        final String resource) {
        if (offsets.length != 2) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": data_offsets must be [begin, end],"
                + " found " + offsets.length + " values " + Arrays.toString(offsets));
        }
        final Shape shape;
        final long bytes;
        try {
            shape = Shape.of(dims);
            bytes = shape.byteSize(dtype);
        } catch (final InvalidShapeException e) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": " + e.getMessage(), e);
        }
        final long begin = offsets[0];
        final long end = offsets[1];
        if (end < begin) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": data_offsets [" + begin + ", "
                + end + "] are out of order: the end precedes the begin");
        }
        if (end - begin != bytes) {
            throw new BadFileFormatException(resource + ": tensor " + quote(name) + ": " + dtype + " " + shape
                + " needs " + bytes + " bytes, but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Checks that, in offset order, the tensors tile the byte buffer exactly: from 0, no gap, no overlap, to its end. */
    private static void checkLayout(final List<Entry> entries, final long dataLength, final String resource) {
        final List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        Entry previous = null;
        for (final Entry entry : byOffset) {
            if (entry.begin() < expected) {
                throw new BadFileFormatException(resource + ": tensor " + quote(entry.name()) + " data_offsets ["
                    + entry.begin() + ", " + entry.end() + "] overlap tensor " + quote(previous.name()) + " ["
                    + previous.begin() + ", " + previous.end() + "]");
            }
            if (entry.begin() > expected) {
                throw new BadFileFormatException(resource + ": bytes [" + expected + ", " + entry.begin() + ") of the "
                    + "byte buffer belong to no tensor: tensor " + quote(entry.name()) + " starts at " + entry.begin()
                    + (previous == null ? ", not at 0" : ", after tensor " + quote(previous.name()) + " ends at "
                    + previous.end()) + "; tensors must follow each other without gaps");
            }
            if (entry.end() > dataLength) {
                throw new BadFileFormatException(resource + ": truncated: tensor " + quote(entry.name())
                    + " data_offsets [" + entry.begin() + ", " + entry.end() + "] end beyond the " + dataLength
                    + " bytes the file holds after its header");
            }
            expected = entry.end();
            previous = entry;
        }
        if (expected != dataLength) {
            throw new BadFileFormatException(resource + ": the file holds " + dataLength + " bytes after its header but "
                + "its tensors cover " + expected + ": " + (dataLength - expected) + " bytes at the end belong to no "
                + "tensor");
        }
    }

    private static void readFully(final FileChannel channel, final ByteBuffer dst, final long position)
        throws IOException {
        while (dst.hasRemaining()) {
            if (channel.read(dst, position + dst.position()) < 0) {
                return;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * Encodes the 8-byte length and the JSON header, padded with spaces so that the byte buffer starts at a multiple
     * of {@value #ALIGNMENT}, as the reference implementation writes it: {@code __metadata__} first (when not
     * empty), then the entries in the given order.
     *
     * @param metadata string map for {@code __metadata__}; omitted when empty.
     * @param entries  tensors whose offsets tile {@code [0, total)} in the given order.
     * @return a little-endian heap buffer, position 0, limit at the end of the padding.
     * @throws IllegalArgumentException   when the entries do not tile the byte buffer in order, a name repeats or is
     *                                    {@value #METADATA_KEY}, or an entry's size disagrees with its shape.
     * @throws CapacityExceededException when the header would exceed {@value #MAX_HEADER_LENGTH} bytes.
     */
    public static ByteBuffer encode(final Map<String, String> metadata, final List<Entry> entries) {
        final ByteArrayOutputStream text = new ByteArrayOutputStream(64 + 96 * entries.size());
        final Set<String> names = new HashSet<>();
        long expected = 0;
        try (JsonGenerator json = JSON.createGenerator(text)) {
            json.writeStartObject();
            if (!metadata.isEmpty()) {
                json.writeObjectFieldStart(METADATA_KEY);
                for (final Map.Entry<String, String> entry : metadata.entrySet()) {
                    json.writeStringField(entry.getKey(), entry.getValue());
                }
                json.writeEndObject();
            }
            for (final Entry entry : entries) {
                if (METADATA_KEY.equals(entry.name()) || !names.add(entry.name())) {
                    throw new IllegalArgumentException("tensor name " + quote(entry.name()) + " is reserved or repeated");
                }
                if (entry.begin() != expected || entry.byteSize() != entry.shape().byteSize(entry.dtype())) {
                    throw new IllegalArgumentException("tensor " + quote(entry.name()) + " at [" + entry.begin() + ", "
                        + entry.end() + "] does not follow " + expected + " or does not hold " + entry.dtype() + " "
                        + entry.shape());
                }
                expected = entry.end();
                json.writeObjectFieldStart(entry.name());
                json.writeStringField("dtype", entry.dtype().safetensorsName());
                json.writeArrayFieldStart("shape");
                for (int i = 0; i < entry.shape().rank(); i++) {
                    json.writeNumber(entry.shape().dim(i));
                }
                json.writeEndArray();
                json.writeArrayFieldStart("data_offsets");
                json.writeNumber(entry.begin());
                json.writeNumber(entry.end());
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndObject();
        } catch (final IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        final int length = text.size();
        final long padded = (length + ALIGNMENT - 1) / ALIGNMENT * (long) ALIGNMENT;
        if (padded > MAX_HEADER_LENGTH) {
            throw new CapacityExceededException("a safetensors header for " + entries.size() + " tensors needs "
                + padded + " bytes, above the format's limit of " + MAX_HEADER_LENGTH + "; export fewer keys per file");
        }
        final ByteBuffer out = ByteBuffer.allocate((int) (JSON_OFFSET + padded)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(text.toByteArray());
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.flip();
    }

    // ------------------------------------------------------------------------------------------------ messages

    private static BadFileFormatException invalidJson(final String resource, final JsonParser json,
        final String what) {
        return new BadFileFormatException(resource + ": invalid header at line " + json.currentLocation().getLineNr()
            + ", column " + json.currentLocation().getColumnNr() + ": " + what);
    }

    private static String describe(final String name) {
        return METADATA_KEY.equals(name) ? METADATA_KEY : "tensor " + quote(name);
    }

    /**
     * @param text a name from a file.
     * @return the name in single quotes, control characters escaped, cut to a readable length.
     */
    static String quote(final String text) {
        final StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_QUOTED) + 8).append('\'');
        for (int i = 0; i < text.length(); i++) {
            if (i == MAX_QUOTED) {
                out.append("...(").append(text.length()).append(" characters)");
                break;
            }
            out.append(printable(text.charAt(i)));
        }
        return out.append('\'').toString();
    }

    private static String printable(final char c) {
        return Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }
}
