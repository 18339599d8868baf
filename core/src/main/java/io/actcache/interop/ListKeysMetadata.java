package io.actcache.interop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.BadFileFormatException;
import io.actcache.InvalidKeyException;

import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors {@code __metadata__} entry that names an export's LIST keys, a JSON array of strings: an import
 * folds tensors {@code key[0]}, {@code key[1]}, ... back into a list for exactly those keys, so a dense key that
 * happens to be named {@code h[0]} stays dense. Files without it (older exports, other tools) are folded by the
 * naming convention alone.
 */
final class ListKeysMetadata {
    /** The metadata name; reserved, so a cache's own metadata cannot use it in a safetensors export. */
    static final String NAME = "actcache.list_keys";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ListKeysMetadata() {
    }

    /**
     * @param metadata the cache's metadata.
     * @param listKeys the LIST keys exported.
     * @return the metadata with the entry added.
     * @throws InvalidKeyException when the cache's metadata already uses the name.
     */
    static Map<String, String> with(final Map<String, String> metadata, final Collection<String> listKeys) {
        if (metadata.containsKey(NAME)) {
            throw new InvalidKeyException("metadata '" + NAME + "' cannot be exported to safetensors: the export "
                + "reserves the name to record its list keys; remove or rename it");
        }
        final Map<String, String> out = new LinkedHashMap<>(metadata);
        try {
            out.put(NAME, JSON.writeValueAsString(List.copyOf(listKeys)));
        } catch (final JsonProcessingException e) {
            throw new IllegalStateException("cannot encode list keys", e);
        }
        return out;
    }

    /**
     * @param metadata a safetensors file's metadata.
     * @param file     the file, for messages.
     * @return the list keys it records, or null when it records none (not an actcache export).
     * @throws BadFileFormatException naming the file when the entry is not a JSON array of strings.
     */
    static Set<String> read(final Map<String, String> metadata, final Path file) {
        final String value = metadata.get(NAME);
        if (value == null) {
            return null;
        }
        try {
            return new LinkedHashSet<>(JSON.readValue(value, new TypeReference<List<String>>() { }));
        } catch (final JsonProcessingException e) {
            throw new BadFileFormatException(file + ": metadata '" + NAME + "' is not a JSON array of key names: "
                + e.getOriginalMessage());
        }
    }
}
