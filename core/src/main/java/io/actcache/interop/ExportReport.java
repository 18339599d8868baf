package io.actcache.interop;

import java.nio.file.Path;
import java.util.List;

/**
 * What an export wrote.
 *
 * @param target  the target directory.
 * @param format  the format written.
 * @param files   the files written, relative to the target, in writing order.
 * @param keys    the keys exported.
 * @param tensors tensors written (a list key writes one per item).
 * @param bytes   tensor bytes written.
 */
public record ExportReport(Path target, ExportFormat format, List<Path> files, List<String> keys, long tensors,
    long bytes) {
    /** Copies the lists. */
    public ExportReport {
        files = List.copyOf(files);
        keys = List.copyOf(keys);
    }
}
