package io.actcache.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.FormatTooOldException;
import io.actcache.StoreIOException;
import io.actcache.codec.Codec;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import org.agrona.SemanticVersion;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * {@code manifest.json}: the checkpoint. Every key's descriptor and the epoch it is complete up to, in JSON so
 * that Python finds a key's NPY file with {@code json.load(...)["columns"][key]["file"]}:
 * <pre>
 * {
 *   "format": "actcache-manifest", "version": "1.0.0", "epoch": 12, "nextColumnId": 40, "keyCount": 1,
 *   "metadata": {"model_name": "gpt2", "n_layers": "12"},
 *   "columns": {
 *     "resid_out_3": {"id": 7, "file": "columns/7.npy", "kind": "DENSE", "dtype": "F32", "codec": "RAW",
 *                     "shape": [64, 128, 768], "bytes": 25165824, "dataOffset": 4096}
 *   }
 * }
 * </pre>
 * The header fields come first, so {@link #readHeader(Path)} stops before the columns. Since version 1.1 the file
 * ends with {@code ,"crc32c" : "<8 hex digits>"}, the CRC32C of every byte before that field, checked on every
 * read (a 1.0 manifest, without it, is still read). Written atomically (temp file, force, rename, directory force).
 *
 * @param epoch        the epoch this checkpoint is complete up to.
 * @param nextColumnId the next unused column id.
 * @param columns      every key's descriptor, sorted by key.
 * @param metadata     the store's metadata (model name, n_layers, ...), sorted by name.
 */
public record Manifest(long epoch, long nextColumnId, Map<String, ColumnDescriptor> columns,
    Map<String, String> metadata) {
    /** Manifest format version. */
    public static final int VERSION = SemanticVersion.compose(1, 1, 0);
    /** Byte offset of tensor data in a RAW column file (after the padded NPY header). */
    public static final long DATA_OFFSET = 4096;

    private static final String FORMAT = "actcache-manifest";
    // Since 1.1 a manifest ends with this trailer, the CRC32C (8 lowercase hex digits) of every byte before it: the
    // manifest is the truth and has no other copy, so a flipped bit must never parse as a different key or value.
    private static final String TRAILER_PREFIX = ",\n  \"crc32c\" : \"";
    private static final String TRAILER_SUFFIX = "\"\n}\n";
    private static final int TRAILER_LENGTH = TRAILER_PREFIX.length() + 8 + TRAILER_SUFFIX.length();
    // Keys are field names: canonicalizing and interning 10,000 one-off names costs more than it saves. A field
    // named twice in one object (two epochs, two descriptors for a key) is refused rather than read as the last one.
    private static final JsonFactory JSON = JsonFactory.builder()
        .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * The header fields, read without the columns.
     *
     * @param epoch        checkpoint epoch.
     * @param nextColumnId next unused column id.
     * @param keyCount     keys in the checkpoint.
     * @param metadata     the store's metadata.
     */
    public record Header(long epoch, long nextColumnId, long keyCount, Map<String, String> metadata) {
    }

    /** @return an empty manifest at epoch 0. */
    public static Manifest empty() {
        return new Manifest(0, 1, new TreeMap<>(), new TreeMap<>());
    }

    /**
     * Writes the manifest atomically.
     *
     * @param file  target path.
     * @param force whether to force to the device.
     */
    public void write(final Path file, final boolean force) {
        write(FileLayer.system(), file, force);
    }

    /**
     * {@link #write(Path, boolean)} through a file layer.
     *
     * @param layer the store's file layer.
     * @param file  target path.
     * @param force whether to force to the device.
     */
    void write(final FileLayer layer, final Path file, final boolean force) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(256 + columns.size() * 200);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.useDefaultPrettyPrinter();
            json.writeStartObject();
            json.writeStringField("format", FORMAT);
            json.writeStringField("version", SemanticVersion.toString(VERSION));
            json.writeNumberField("epoch", epoch);
            json.writeNumberField("nextColumnId", nextColumnId);
            json.writeNumberField("keyCount", columns.size());
            json.writeObjectFieldStart("metadata");
            for (final Map.Entry<String, String> entry : new TreeMap<>(metadata).entrySet()) {
                json.writeStringField(entry.getKey(), entry.getValue());
            }
            json.writeEndObject();
            json.writeObjectFieldStart("columns");
            for (final Map.Entry<String, ColumnDescriptor> entry : new TreeMap<>(columns).entrySet()) {
                final ColumnDescriptor column = entry.getValue();
                json.writeObjectFieldStart(entry.getKey());
                json.writeNumberField("id", column.columnId());
                final boolean list = column.kind() == ColumnKind.LIST;
                final boolean blocks = column.codec().isBlockCompressed();
                json.writeStringField("file", StoreFiles.COLUMNS + "/" + column.columnId()
                    + (list ? StoreFiles.LIST_EXTENSION : blocks ? StoreFiles.BLOCKS_EXTENSION
                    : StoreFiles.NPY_EXTENSION));
                if (blocks) {
                    json.writeStringField("blockIndex", StoreFiles.COLUMNS + "/" + column.columnId()
                        + StoreFiles.BLOCK_INDEX_EXTENSION);
                }
                if (list) {
                    json.writeStringField("items", StoreFiles.COLUMNS + "/" + column.columnId()
                        + StoreFiles.ITEMS_EXTENSION);
                }
                json.writeStringField("kind", column.kind().name());
                json.writeStringField("dtype", column.dtype().name());
                json.writeStringField("codec", column.codec().name());
                json.writeArrayFieldStart("shape");
                for (int i = 0; i < column.shape().rank(); i++) {
                    json.writeNumber(column.shape().dim(i));
                }
                json.writeEndArray();
                json.writeNumberField("bytes", column.byteSize());
                json.writeNumberField("tailCrc", column.tailCrc());
                if (blocks) {
                    json.writeNumberField("blockEntries", column.blockEntries());
                    json.writeNumberField("fileBytes", column.fileBytes());
                } else {
                    json.writeNumberField("dataOffset", list ? ListColumnDescriptor.HEADER_LENGTH : DATA_OFFSET);
                }
                json.writeEndObject();
            }
            json.writeEndObject();
            json.writeEndObject();
        } catch (final IOException e) {
            throw new IllegalStateException("cannot encode manifest", e);
        }
        StoreFiles.replaceAtomically(layer, file, ByteBuffer.wrap(withChecksum(out.toByteArray())), force);
    }

    /**
     * Reads the header fields only.
     *
     * @param file the manifest.
     * @return the header, or null when the file does not exist.
     */
    public static Header readHeader(final Path file) {
        return parse(file, null);
    }

    /**
     * Reads the whole manifest.
     *
     * @param file the manifest.
     * @return the manifest, or null when the file does not exist.
     */
    public static Manifest read(final Path file) {
        final Map<String, ColumnDescriptor> columns = new TreeMap<>();
        final Header header = parse(file, columns);
        return header == null ? null
            : new Manifest(header.epoch(), header.nextColumnId(), columns, header.metadata());
    }

    private static Header parse(final Path file, final Map<String, ColumnDescriptor> columns) {
        final byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (final NoSuchFileException e) {
            return null;
        } catch (final IOException e) {
            throw new StoreIOException("cannot read manifest " + file + ": " + e, e);
        }
        final boolean checksummed = checkTrailer(file, bytes);
        boolean legacy = false;
        try (JsonParser json = JSON.createParser(bytes)) {
            expect(file, json, json.nextToken(), JsonToken.START_OBJECT);
            long epoch = -1;
            long nextColumnId = -1;
            long keyCount = -1;
            String format = null;
            final Map<String, String> metadata = new TreeMap<>();
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                final String field = json.currentName();
                final JsonToken value = json.nextToken();
                switch (field) {
                    case "format": format = json.getText(); break;
                    case "version":
                        checkVersion(file, json.getText());
                        legacy = json.getText().startsWith("1.0.");
                        break;
                    case "epoch": epoch = json.getLongValue(); break;
                    case "nextColumnId": nextColumnId = json.getLongValue(); break;
                    case "keyCount": keyCount = json.getLongValue(); break;
                    case "metadata":
                        expect(file, json, value, JsonToken.START_OBJECT);
                        while (json.nextToken() == JsonToken.FIELD_NAME) {
                            final String name = json.currentName();
                            expect(file, json, json.nextToken(), JsonToken.VALUE_STRING);
                            metadata.put(name, json.getText());
                        }
                        break;
                    case "columns":
                        if (!FORMAT.equals(format) || epoch < 0 || nextColumnId < 1 || keyCount < 0) {
                            throw corrupt(file, json, "header fields missing or invalid before \"columns\"");
                        }
                        if (!checksummed && !legacy) {
                            throw new CorruptFileException("manifest " + file + " does not end with its CRC32C "
                                + "trailer (truncated or extended?): its last " + TRAILER_LENGTH + " bytes are not "
                                + "',\\n  \"crc32c\" : \"<8 hex digits>\"\\n}\\n'");
                        }
                        if (columns == null) {
                            return new Header(epoch, nextColumnId, keyCount, metadata);
                        }
                        expect(file, json, value, JsonToken.START_OBJECT);
                        readColumns(file, json, columns);
                        if (columns.size() != keyCount) {
                            throw corrupt(file, json, "keyCount " + keyCount + " but " + columns.size() + " columns");
                        }
                        return new Header(epoch, nextColumnId, keyCount, metadata);
                    default: json.skipChildren();
                }
            }
            throw corrupt(file, json, "no \"columns\" object");
        } catch (final CorruptFileException e) {
            throw e;
        } catch (final IOException | RuntimeException e) {
            throw new CorruptFileException("cannot parse manifest " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the JSON with the CRC32C trailer in place of its closing brace. */
    private static byte[] withChecksum(final byte[] json) {
        int end = json.length;
        while (json[end - 1] != '}') {
            end--;
        }
        end--; // the root object's closing brace, replaced by the trailer's
        while (Character.isWhitespace(json[end - 1])) {
            end--;
        }
        final CRC32C crc = new CRC32C();
        crc.update(json, 0, end);
        final byte[] trailer = (TRAILER_PREFIX + String.format("%08x", crc.getValue()) + TRAILER_SUFFIX)
            .getBytes(StandardCharsets.US_ASCII);
        final byte[] out = Arrays.copyOf(json, end + trailer.length);
        System.arraycopy(trailer, 0, out, end, trailer.length);
        return out;
    }

    /**
     * @return true when the file ends with a CRC32C trailer that matches the bytes before it, false when it ends
     *     with no trailer (a 1.0 manifest, or damage the caller reports).
     * @throws CorruptFileException when the trailer is there and the CRC32C differs.
     */
    private static boolean checkTrailer(final Path file, final byte[] bytes) {
        final int body = bytes.length - TRAILER_LENGTH;
        if (body < 0 || !hasAt(bytes, body, TRAILER_PREFIX)
            || !hasAt(bytes, bytes.length - TRAILER_SUFFIX.length(), TRAILER_SUFFIX)) {
            return false;
        }
        int stored = 0;
        for (int i = body + TRAILER_PREFIX.length(); i < bytes.length - TRAILER_SUFFIX.length(); i++) {
            final int b = bytes[i];
            final int digit = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
            if (digit < 0) {
                return false;
            }
            stored = stored << 4 | digit;
        }
        final CRC32C crc = new CRC32C();
        crc.update(bytes, 0, body);
        if ((int) crc.getValue() != stored) {
            throw new CorruptFileException(String.format("manifest %s fails its CRC32C: the trailer at byte %d says "
                + "0x%08x, the bytes before it give 0x%08x; the file is damaged", file, body, stored, crc.getValue()));
        }
        return true;
    }

    private static boolean hasAt(final byte[] bytes, final int offset, final String text) {
        for (int i = 0; i < text.length(); i++) {
            if (bytes[offset + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static void readColumns(final Path file, final JsonParser json, final Map<String, ColumnDescriptor> out)
        throws IOException {
        while (json.nextToken() == JsonToken.FIELD_NAME) {
            final String key = json.currentName();
            expect(file, json, json.nextToken(), JsonToken.START_OBJECT);
            long id = -1;
            ColumnKind kind = null;
            DType dtype = null;
            Codec codec = null;
            Shape shape = null;
            long bytes = -1;
            int tailCrc = 0;
            long blockEntries = 0;
            long fileBytes = 0;
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                final String field = json.currentName();
                json.nextToken();
                switch (field) {
                    case "id": id = json.getLongValue(); break;
                    case "kind": kind = ColumnKind.valueOf(json.getText()); break;
                    case "dtype": dtype = DType.valueOf(json.getText()); break;
                    case "codec": codec = Codec.valueOf(json.getText()); break;
                    case "shape":
                        expect(file, json, json.currentToken(), JsonToken.START_ARRAY);
                        final long[] dims = new long[Shape.MAX_RANK];
                        int rank = 0;
                        while (json.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                            if (rank == dims.length) {
                                throw corrupt(file, json, "column '" + key + "' has a shape of rank above "
                                    + Shape.MAX_RANK);
                            }
                            dims[rank++] = json.getLongValue();
                        }
                        expect(file, json, json.currentToken(), JsonToken.END_ARRAY);
                        shape = Shape.of(java.util.Arrays.copyOf(dims, rank));
                        break;
                    case "bytes": bytes = json.getLongValue(); break;
                    case "tailCrc": tailCrc = json.getIntValue(); break;
                    case "blockEntries": blockEntries = json.getLongValue(); break;
                    case "fileBytes": fileBytes = json.getLongValue(); break;
                    default: json.skipChildren();
                }
            }
            if (id < 1 || kind == null || dtype == null || codec == null || shape == null || bytes < 0) {
                throw corrupt(file, json, "column '" + key + "' lacks id, kind, dtype, codec, shape or bytes");
            }
            try {
                out.put(key, new ColumnDescriptor(id, kind, dtype, codec, shape, bytes, tailCrc, blockEntries,
                    fileBytes));
            } catch (final IllegalArgumentException e) {
                throw corrupt(file, json, "column '" + key + "': " + e.getMessage());
            }
        }
    }

    private static void checkVersion(final Path file, final String text) {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 3) {
            throw new CorruptFileException("manifest " + file + ": bad version '" + text
                + "', expected major.minor.patch");
        }
        final int major;
        try {
            major = Integer.parseInt(parts[0]);
        } catch (final NumberFormatException e) {
            throw new CorruptFileException("manifest " + file + ": bad version '" + text + "'", e);
        }
        if (major > SemanticVersion.major(VERSION)) {
            throw new FormatTooNewException("manifest " + file + " has version " + text
                + ", newer than this build reads (" + SemanticVersion.toString(VERSION) + ")");
        }
        if (major < SemanticVersion.major(VERSION)) {
            throw new FormatTooOldException("manifest " + file + " has version " + text
                + ", older than this build reads (" + SemanticVersion.toString(VERSION) + ")");
        }
    }

    private static void expect(final Path file, final JsonParser json, final JsonToken actual,
        final JsonToken expected) {
        if (actual != expected) {
            throw corrupt(file, json, "expected " + expected + ", found " + actual);
        }
    }

    private static CorruptFileException corrupt(final Path file, final JsonParser json, final String what) {
        return new CorruptFileException("manifest " + file + " at byte "
            + json.currentLocation().getByteOffset() + ": " + what);
    }
}
