package io.actcache.store;

import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.MemoryChunk;

import java.nio.file.Path;

/**
 * The memory of one committed column file as the views of one {@code get} see it: chunks come from the store's
 * {@link MappingCache} and never extend past the bytes committed when the view was taken.
 */
final class ColumnMemory implements ChunkedMemory {
    private final MappingCache mappings;
    private final long columnId;
    private final Path file;
    private final long committedEnd;
    private final String description;

    ColumnMemory(final MappingCache mappings, final long columnId, final Path file, final long committedEnd,
        final String key) {
        this.mappings = mappings;
        this.columnId = columnId;
        this.file = file;
        this.committedEnd = committedEnd;
        this.description = "key '" + Keys.escape(key) + "' (" + file + ")";
    }

    @Override
    public MemoryChunk chunkFor(final long position, final long requiredEnd) {
        return mappings.chunk(columnId, file, position, requiredEnd, committedEnd, description);
    }

    @Override
    public String description() {
        return description;
    }
}
