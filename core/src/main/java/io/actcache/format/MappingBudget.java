package io.actcache.format;

import io.actcache.tensor.MemoryChunk;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bound on the chunks mapped at once across several input files read by one thread (an import merging thousands
 * of batch files): when a file maps a chunk past the bound, the least recently used chunk of any file sharing the
 * budget is unmapped (views fetch it again when they next read it). Each file also keeps its own bound. Without a
 * shared budget an import of n files could hold 4n mappings until it ended, and the kernel's map count limit
 * ({@code vm.max_map_count}, 65,530 by default) failed imports of about 16,000 files. One thread only.
 */
public final class MappingBudget {
    /** Default bound: 256 chunks of at most 64 MiB, 16 GiB of address space. */
    public static final int DEFAULT_MAX_CHUNKS = 256;

    private final int maxChunks;
    /** Live chunks of every file, least recently used first, with the file that mapped each. */
    private final LinkedHashMap<MemoryChunk, MappedInputFile> live = new LinkedHashMap<>(64, 0.75f, true);

    /** @param maxChunks chunks mapped at once, at least 1. */
    public MappingBudget(final int maxChunks) {
        if (maxChunks < 1) {
            throw new IllegalArgumentException("a mapping budget of " + maxChunks + " chunks must be at least 1");
        }
        this.maxChunks = maxChunks;
    }

    /** @return a budget of {@value #DEFAULT_MAX_CHUNKS} chunks. */
    public static MappingBudget defaults() {
        return new MappingBudget(DEFAULT_MAX_CHUNKS);
    }

    /** @return chunks mapped now by the files sharing this budget. */
    public int liveChunks() {
        return live.size();
    }

    /** Records a chunk just mapped and unmaps the least recently used others beyond the bound. */
    void mapped(final MemoryChunk chunk, final MappedInputFile owner) {
        live.put(chunk, owner);
        final Iterator<Map.Entry<MemoryChunk, MappedInputFile>> eldest = live.entrySet().iterator();
        while (live.size() > maxChunks && eldest.hasNext()) {
            final Map.Entry<MemoryChunk, MappedInputFile> entry = eldest.next();
            if (entry.getKey() != chunk) {
                eldest.remove();
                entry.getValue().evict(entry.getKey());
            }
        }
    }

    /** Marks a chunk as just used. */
    void used(final MemoryChunk chunk) {
        live.get(chunk);
    }

    /** Forgets a chunk its file unmapped. */
    void unmapped(final MemoryChunk chunk) {
        live.remove(chunk);
    }
}
