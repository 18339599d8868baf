package io.actcache.cache;

import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Caches of both backings for tests, and small tensors. A JUnit extension (register it with
 * {@code @RegisterExtension}): each test gets a fresh temporary directory, and what it opened is closed and
 * deleted after it.
 */
final class CacheTestSupport implements AutoCloseable, BeforeEachCallback, AfterEachCallback {
    private final List<AutoCloseable> opened = new ArrayList<>();
    private Path dir;
    private int stores;

    @Override
    public void beforeEach(final ExtensionContext context) throws java.io.IOException {
        dir = java.nio.file.Files.createTempDirectory("actcache-cache-test");
    }

    @Override
    public void afterEach(final ExtensionContext context) {
        try {
            close();
        } finally {
            opened.clear();
            io.actcache.store.StoreFiles.deleteTree(dir);
        }
    }

    /** @return a new store in the temp dir, durability PROCESS. */
    ActivationStore store() {
        final ActivationStore store = ActivationStore.create(dir.resolve("store" + stores++),
            StoreOptions.builder().durability(Durability.PROCESS).build());
        opened.add(store);
        return store;
    }

    /**
     * @param stored true for a store-backed cache.
     * @return an empty cache.
     */
    ActivationCache cache(final boolean stored) {
        final ActivationCache cache = stored ? ActivationCache.over(store()) : ActivationCache.onHeap();
        opened.add(0, cache);
        return cache;
    }

    /**
     * @param keysAndTensors key, tensor, key, tensor, ...
     * @return a heap cache holding them.
     */
    static ActivationCache batch(final Object... keysAndTensors) {
        final ActivationCache batch = ActivationCache.onHeap();
        for (int i = 0; i < keysAndTensors.length; i += 2) {
            batch.put((String) keysAndTensors[i], (Tensor) keysAndTensors[i + 1]);
        }
        return batch;
    }

    static Tensor floats(final long[] dims, final float... values) {
        return Tensor.ofFloats(Shape.of(dims), values);
    }

    static long[] dims(final long... dims) {
        return dims;
    }

    static float[] values(final TensorView view) {
        return view.toFloatArray();
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (final AutoCloseable closeable : opened) {
            try {
                closeable.close();
            } catch (final Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing test caches and stores failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
