package io.actcache.interop;

/** The file formats {@link CacheExporter} writes. */
public enum ExportFormat {
    /**
     * safetensors: {@code model.safetensors}, or shards {@code model-00001-of-00003.safetensors} with
     * {@code model.safetensors.index.json}, as Hugging Face names them.
     */
    SAFETENSORS,
    /** One NPY file per key (a directory of numbered files per list key), with an index {@code actcache-export.json}. */
    NPY
}
