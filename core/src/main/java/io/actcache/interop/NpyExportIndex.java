package io.actcache.interop;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.actcache.BadFileFormatException;
import io.actcache.StoreIOException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The index of an NPY export, {@value #FILE_NAME}: which file holds which key (file names cannot always spell
 * keys), each key's kind and dtype (BF16 and a genuine {@code <u2} array look alike in NPY), and the store's
 * metadata. An import of the directory reads it back and checks every file against it.
 *
 * <pre>{@code
 * { "format" : "actcache-npy-export", "version" : 1, "metadata" : { "n_layers" : "12" },
 *   "keys" : { "resid_out_0" : { "kind" : "DENSE", "dtype" : "F32", "shape" : [ 8, 128, 768 ],
 *                                "file" : "resid_out_0.npy" },
 *              "pattern" : { "kind" : "LIST", "dtype" : "F32", "files" : [ "pattern.list/0.npy", ... ] } } }
 * }</pre>
 */
final class NpyExportIndex {
    /** The index's file name in an export directory. */
    static final String FILE_NAME = "actcache-export.json";
    private static final String FORMAT = "actcache-npy-export";
    private static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build()).enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One key of the export.
     *
     * @param key   the key.
     * @param list  true for a list key (one file per item).
     * @param dtype element type.
     * @param shape the shape of a dense key; null for a list.
     * @param files file paths relative to the directory: one for a dense key, one per item for a list.
     */
    record Entry(String key, boolean list, DType dtype, Shape shape, List<String> files) {
    }

    private NpyExportIndex() {
    }

    /**
     * @param dir a directory.
     * @return true when it holds an index.
     */
    static boolean isExport(final Path dir) {
        return Files.isRegularFile(dir.resolve(FILE_NAME));
    }

    /**
     * Writes the index (not forced; the export forces its whole directory).
     *
     * @param dir      the export directory.
     * @param metadata the exported metadata.
     * @param entries  the keys in order.
     */
    static void write(final Path dir, final Map<String, String> metadata, final List<Entry> entries) {
        final ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        final ObjectNode meta = root.putObject("metadata");
        metadata.forEach(meta::put);
        final ObjectNode keys = root.putObject("keys");
        for (final Entry entry : entries) {
            final ObjectNode node = keys.putObject(entry.key());
            node.put("kind", entry.list() ? "LIST" : "DENSE");
            node.put("dtype", entry.dtype().name());
            if (entry.list()) {
                final ArrayNode files = node.putArray("files");
                entry.files().forEach(files::add);
            } else {
                final ArrayNode shape = node.putArray("shape");
                for (final long dim : entry.shape().dims()) {
                    shape.add(dim);
                }
                node.put("file", entry.files().get(0));
            }
        }
        final Path file = dir.resolve(FILE_NAME);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(root)));
        } catch (final IOException e) {
            throw new StoreIOException(file + ": cannot write the export index: " + e, e);
        }
    }

    /**
     * Reads and checks an index: its format, every key's kind and dtype, and that every file path stays inside
     * {@code dir} and names an {@code .npy} file.
     *
     * @param dir an export directory.
     * @return the metadata and entries.
     * @throws BadFileFormatException naming the index file and the key at fault.
     */
    static Map.Entry<Map<String, String>, List<Entry>> read(final Path dir) {
        final Path file = dir.resolve(FILE_NAME);
        final JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (final JsonProcessingException e) {
            throw new BadFileFormatException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (final IOException e) {
            throw new StoreIOException(file + ": cannot read: " + e, e);
        }
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))) {
            throw new BadFileFormatException(file + ": not an actcache NPY export index: expected \"format\" : \""
                + FORMAT + "\"");
        }
        if (root.path("version").asInt(-1) != VERSION) {
            throw new BadFileFormatException(file + ": export index version " + root.path("version")
                + " is not the version this build reads (" + VERSION + ")");
        }
        final Map<String, String> metadata = new LinkedHashMap<>();
        final JsonNode meta = root.path("metadata");
        if (!meta.isMissingNode()) {
            if (!meta.isObject()) {
                throw new BadFileFormatException(file + ": \"metadata\" must be an object of strings");
            }
            for (final Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
                final Map.Entry<String, JsonNode> field = it.next();
                if (!field.getValue().isTextual()) {
                    throw new BadFileFormatException(file + ": metadata '" + field.getKey() + "' must be a string");
                }
                metadata.put(field.getKey(), field.getValue().asText());
            }
        }
        final JsonNode keys = root.path("keys");
        if (!keys.isObject()) {
            throw new BadFileFormatException(file + ": \"keys\" must be an object");
        }
        final List<Entry> entries = new ArrayList<>();
        for (final Iterator<Map.Entry<String, JsonNode>> it = keys.fields(); it.hasNext(); ) {
            final Map.Entry<String, JsonNode> field = it.next();
            entries.add(entry(file, dir, field.getKey(), field.getValue()));
        }
        return Map.entry(metadata, entries);
    }

    private static Entry entry(final Path file, final Path dir, final String key, final JsonNode node) {
        final String where = file + ": key '" + key + "'";
        final String kind = node.path("kind").asText("");
        if (!kind.equals("DENSE") && !kind.equals("LIST")) {
            throw new BadFileFormatException(where + ": kind must be DENSE or LIST, found " + node.path("kind"));
        }
        final DType dtype;
        try {
            dtype = DType.valueOf(node.path("dtype").asText(""));
        } catch (final IllegalArgumentException e) {
            throw new BadFileFormatException(where + ": unknown dtype " + node.path("dtype"), e);
        }
        final List<String> files = new ArrayList<>();
        if (kind.equals("LIST")) {
            final JsonNode list = node.path("files");
            if (!list.isArray() || list.isEmpty()) {
                throw new BadFileFormatException(where + ": a LIST key needs a non-empty \"files\" array");
            }
            list.forEach(item -> files.add(checkedPath(where, dir, item)));
            return new Entry(key, true, dtype, null, files);
        }
        final JsonNode shape = node.path("shape");
        if (!shape.isArray()) {
            throw new BadFileFormatException(where + ": a DENSE key needs a \"shape\" array");
        }
        final long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!shape.get(i).canConvertToLong() || !shape.get(i).isIntegralNumber() || shape.get(i).asLong() < 0) {
                throw new BadFileFormatException(where + ": shape " + shape + " must hold non-negative integers");
            }
            dims[i] = shape.get(i).asLong();
        }
        final Shape parsed;
        try {
            parsed = Shape.of(dims);
        } catch (final io.actcache.InvalidShapeException e) {
            throw new BadFileFormatException(where + ": " + e.getMessage(), e);
        }
        files.add(checkedPath(where, dir, node.path("file")));
        return new Entry(key, false, dtype, parsed, files);
    }

    private static String checkedPath(final String where, final Path dir, final JsonNode node) {
        final String name = node.isTextual() ? node.asText() : "";
        final Path resolved = dir.resolve(name).normalize();
        if (name.isEmpty() || Path.of(name).isAbsolute() || !resolved.startsWith(dir.normalize())
            || resolved.equals(dir.normalize()) || !name.endsWith(".npy")) {
            throw new BadFileFormatException(where + ": file " + node + " must be the relative path of an .npy file "
                + "inside " + dir);
        }
        return name;
    }
}
