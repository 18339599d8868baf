/**
 * Import and export between actcache and the files Python tools write and read: safetensors (Hugging Face's
 * format, sharded as its hub shards models) and NPY. {@link io.actcache.interop.CacheImporter} merges files into an
 * {@link io.actcache.cache.ActivationCache}, each file one batch, all in one commit;
 * {@link io.actcache.interop.CacheExporter} writes a cache or store out, streamed. Both report progress in bytes
 * for a progress bar. The {@code actcache import} and {@code export} commands are thin layers over these.
 *
 * <p>Layering: this package uses {@code cache}, {@code store}, {@code format} and {@code tensor}; nothing in those
 * uses it. Every class is confined to the caller's thread. See {@code docs/FORMAT.md} (interop).
 */
package io.actcache.interop;
