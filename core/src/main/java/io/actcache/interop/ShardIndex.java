package io.actcache.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.BadFileFormatException;
import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sharded safetensors checkpoint as Hugging Face lays it out, and as {@link CacheExporter} writes it: a directory
 * with one {@code *.safetensors.index.json} whose {@code weight_map} names, per tensor, the shard file holding it.
 * Imported as one batch: the shards together are one cache.
 */
final class ShardIndex {
    /** Ending of an index file's name, e.g. {@code model.safetensors.index.json}. */
    static final String SUFFIX = ".safetensors.index.json";
    /** Largest index file read: a weight map of a million tensors fits in far less. */
    private static final long MAX_INDEX_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private ShardIndex() {
    }

    /**
     * @param dir a path.
     * @return the directory's index file, or null when it is not a directory or holds none.
     * @throws BadFileFormatException naming the directory when it holds more than one index.
     */
    static Path indexOf(final Path dir) {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        Path found = null;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (final Path entry : entries) {
                if (found != null) {
                    throw new BadFileFormatException(dir + ": holds two safetensors indexes, " + found.getFileName()
                        + " and " + entry.getFileName() + "; import one checkpoint per directory");
                }
                found = entry;
            }
        } catch (final IOException e) {
            throw new StoreIOException(dir + ": cannot list the directory: " + e, e);
        }
        return found;
    }

    /**
     * Reads the weight map.
     *
     * @param index an index file.
     * @return tensor name to shard file (in the index's directory), in the index's order.
     * @throws BadFileFormatException naming the index when it is not JSON with a {@code weight_map} of file names
     *                                in its directory that exist.
     */
    static Map<String, Path> weightMap(final Path index) {
        final JsonNode root;
        try {
            if (Files.size(index) > MAX_INDEX_BYTES) {
                throw new BadFileFormatException(index + ": the index is larger than " + MAX_INDEX_BYTES + " bytes");
            }
            root = JSON.readTree(index.toFile());
        } catch (final com.fasterxml.jackson.core.JacksonException e) {
            throw new BadFileFormatException(index + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (final IOException e) {
            throw new StoreIOException(index + ": cannot read: " + e, e);
        }
        final JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new BadFileFormatException(index + ": no \"weight_map\" object naming the shard of each tensor");
        }
        final Map<String, Path> shards = new LinkedHashMap<>();
        final Path dir = index.toAbsolutePath().getParent();
        for (final Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            final Map.Entry<String, JsonNode> entry = it.next();
            final String file = entry.getValue().isTextual() ? entry.getValue().asText() : "";
            if (!file.endsWith(".safetensors") || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new BadFileFormatException(index + ": tensor '" + entry.getKey() + "' maps to '"
                    + entry.getValue() + "', not a .safetensors file name in the index's directory");
            }
            final Path shard = dir.resolve(file);
            if (!Files.isRegularFile(shard)) {
                throw new BadFileFormatException(index + ": tensor '" + entry.getKey() + "' maps to " + shard
                    + ", which does not exist");
            }
            shards.put(entry.getKey(), shard);
        }
        return shards;
    }

    /**
     * @param weightMap a weight map.
     * @return its shard files, each once, in natural order (shard 1 first).
     */
    static List<Path> shards(final Map<String, Path> weightMap) {
        final List<Path> files = new ArrayList<>(new java.util.LinkedHashSet<>(weightMap.values()));
        files.sort(NaturalOrder.PATHS);
        return files;
    }
}
