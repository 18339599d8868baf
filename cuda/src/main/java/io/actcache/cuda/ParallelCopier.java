package io.actcache.cuda;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Copies one buffer into another with several threads, for filling page-locked staging buffers from the page
 * cache: one thread copying from mapped file pages reaches perhaps 10 GB/s, less than a PCIe Gen5 link takes.
 * Only plain buffer-to-buffer copies run on the workers; the caller gets the source buffers (from a
 * {@link io.actcache.tensor.TensorView}, which is confined to one thread) on its own thread.
 *
 * <p>Copies below {@value #PARALLEL_MIN_BYTES} bytes, or with one thread, run on the caller's thread. Worker threads
 * are daemons, created on first use; {@link #close()} stops them (idempotent). One caller thread at a time.
 */
final class ParallelCopier implements AutoCloseable {
    /** Smallest copy that is split across threads. */
    static final int PARALLEL_MIN_BYTES = 4 << 20;
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int threads;
    private ExecutorService workers;

    /**
     * @param threads threads a copy is split across, at least 1.
     */
    ParallelCopier(final int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("a parallel copy needs at least 1 thread, got " + threads);
        }
        this.threads = threads;
    }

    /** @return the threads a large copy is split across. */
    int threads() {
        return threads;
    }

    /**
     * Copies {@code src}'s remaining bytes into {@code dst} at its position, advancing {@code dst}'s position
     * (not {@code src}'s).
     *
     * @param src source, any buffer.
     * @param dst destination with at least {@code src.remaining()} bytes remaining.
     */
    void copy(final ByteBuffer src, final ByteBuffer dst) {
        final int length = src.remaining();
        if (dst.remaining() < length) {
            throw new IndexOutOfBoundsException("destination has " + dst.remaining() + " bytes left, needs " + length);
        }
        if (threads == 1 || length < PARALLEL_MIN_BYTES) {
            dst.put(src.duplicate());
            return;
        }
        final int slice = (length + threads - 1) / threads;
        final List<Future<?>> parts = new ArrayList<>(threads);
        for (int from = 0; from < length; from += slice) {
            final int start = from;
            final int n = Math.min(slice, length - from);
            parts.add(workers().submit(() -> {
                final ByteBuffer part = src.duplicate();
                part.position(src.position() + start).limit(src.position() + start + n);
                dst.duplicate().position(dst.position() + start).put(part);
            }));
        }
        awaitAll(parts);
        dst.position(dst.position() + length);
    }

    /**
     * Waits for every part, uninterruptibly: returning while a worker still writes would let the caller refill or
     * free the destination (pinned memory) under it. An interrupt is kept for the caller to see once all are done.
     */
    private static void awaitAll(final List<Future<?>> parts) {
        RuntimeException failure = null;
        boolean interrupted = false;
        for (final Future<?> part : parts) {
            while (true) {
                try {
                    part.get();
                    break;
                } catch (final InterruptedException e) {
                    interrupted = true;
                } catch (final ExecutionException e) {
                    final RuntimeException cause = e.getCause() instanceof RuntimeException
                        ? (RuntimeException) e.getCause() : new IllegalStateException(e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
    }

    private ExecutorService workers() {
        if (workers == null) {
            final int pool = POOLS.incrementAndGet();
            final AtomicInteger count = new AtomicInteger();
            workers = Executors.newFixedThreadPool(threads, task -> {
                final Thread thread = new Thread(task, "actcache-staging-" + pool + "-" + count.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        }
        return workers;
    }

    /** Stops the worker threads. Idempotent. */
    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
            workers = null;
        }
    }
}
