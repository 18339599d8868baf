package io.actcache.interop;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What an import did.
 *
 * @param files         the files (or NPY export directories) merged, one batch each, in merge order.
 * @param tensors       tensors read, over all batches.
 * @param bytes         tensor bytes read.
 * @param keys          the target's keys afterwards.
 * @param metadataAdded metadata names and values added to the target.
 */
public record ImportReport(List<Path> files, long tensors, long bytes, List<String> keys,
    Map<String, String> metadataAdded) {
    /** Copies the collections. */
    public ImportReport {
        files = List.copyOf(files);
        keys = List.copyOf(keys);
        metadataAdded = Map.copyOf(metadataAdded);
    }
}
