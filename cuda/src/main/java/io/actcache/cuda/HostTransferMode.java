package io.actcache.cuda;

/**
 * How bytes move between host views and the device.
 */
public enum HostTransferMode {
    /**
     * Try {@code cuMemHostRegister} on the view's own pages first; if the driver refuses (file-backed mappings may
     * not be registrable), remember that for the context and stage from then on.
     */
    AUTO,
    /** Always copy through the context's two page-locked staging buffers, double-buffered. */
    STAGED,
    /** Always register the view's pages; a refusal is an error ({@link CudaException}). */
    REGISTERED
}
