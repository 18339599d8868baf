package io.actcache.store;

import io.actcache.tensor.TensorView;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Writes a view's bytes and feeds the same bytes to a checksum, overlapping the two for large pieces: the checksum
 * runs on a helper thread while the caller's thread writes, and the caller waits for it before the piece's memory
 * may go away. On two cores this hides the CRC32C pass (about 14 GB/s, a third of a page-cache write's time) behind
 * the write; pieces under {@link #OVERLAP_MIN_BYTES} are checksummed inline, where a hand-over would cost more than
 * it saves. The helper thread starts on first use and ends at {@link #close()}. One caller thread at a time.
 */
final class OverlappedChecksums implements AutoCloseable {
    /** Smallest piece whose checksum goes to the helper thread. */
    static final int OVERLAP_MIN_BYTES = 1 << 20;

    /** Writes one piece of a view at an offset from the view's first byte. */
    @FunctionalInterface
    interface PieceWriter {
        /**
         * @param piece  bytes to write, valid only during the call.
         * @param offset bytes of the view before the piece.
         * @throws IOException when the write fails.
         */
        void write(ByteBuffer piece, long offset) throws IOException;
    }

    private final String threadName;
    private ExecutorService helper;

    /** @param threadName name of the helper thread, for thread dumps. */
    OverlappedChecksums(final String threadName) {
        this.threadName = threadName;
    }

    /**
     * Writes every byte of {@code data} with {@code writer} and feeds every byte, in order, to {@code checksum}.
     *
     * @param data     the bytes.
     * @param writer   writes a piece.
     * @param checksum consumes the pieces in order (called from one thread at a time).
     * @throws IOException when a write fails; the checksum of that piece has finished by then.
     */
    void write(final TensorView data, final PieceWriter writer, final Consumer<ByteBuffer> checksum)
        throws IOException {
        final long[] offset = {0};
        final IOException[] failure = {null};
        data.visitBytes(0, data.byteSize(), piece -> {
            if (failure[0] != null) {
                return;
            }
            try {
                writePiece(piece, offset[0], writer, checksum);
            } catch (final IOException e) {
                failure[0] = e;
            }
            offset[0] += piece.remaining();
        });
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private void writePiece(final ByteBuffer piece, final long offset, final PieceWriter writer,
        final Consumer<ByteBuffer> checksum) throws IOException {
        if (piece.remaining() < OVERLAP_MIN_BYTES) {
            checksum.accept(piece.duplicate());
            writer.write(piece.duplicate(), offset);
            return;
        }
        final ByteBuffer forChecksum = piece.duplicate();
        final CompletableFuture<Void> running = CompletableFuture.runAsync(() -> checksum.accept(forChecksum),
            helper());
        try {
            writer.write(piece.duplicate(), offset);
        } finally {
            // Uninterruptible: the piece's memory is only guaranteed while this callback runs.
            running.join();
        }
    }

    private ExecutorService helper() {
        if (helper == null) {
            helper = Executors.newSingleThreadExecutor(task -> {
                final Thread thread = new Thread(task, threadName);
                thread.setDaemon(true);
                return thread;
            });
        }
        return helper;
    }

    /** Ends the helper thread, if it was started. Idempotent. */
    @Override
    public void close() {
        if (helper != null) {
            helper.shutdown();
            helper = null;
        }
    }
}
