package io.actcache.format;

import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;

/**
 * Copies a view's bytes into a file with positional channel writes, in steps of at most {@value #STEP} bytes so that
 * progress is reported as the bytes go; the view's memory is handed to the channel without a heap copy.
 */
final class ViewWriter {
    /** Bytes per step between progress reports. */
    static final long STEP = 16L << 20;

    private ViewWriter() {
    }

    /**
     * @param view      the bytes.
     * @param channel   destination.
     * @param position  file offset of the first byte.
     * @param bytesDone receives the count of each step's bytes once written.
     * @return bytes written: {@code view.byteSize()}.
     * @throws IOException when a write fails.
     */
    static long write(final TensorView view, final FileChannel channel, final long position,
        final LongConsumer bytesDone) throws IOException {
        final long size = view.byteSize();
        final long[] target = {position};
        try {
            for (long done = 0; done < size; ) {
                final long step = Math.min(STEP, size - done);
                view.visitBytes(done, step, piece -> {
                    try {
                        target[0] += writeFully(channel, piece, target[0]);
                    } catch (final IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                done += step;
                bytesDone.accept(step);
            }
        } catch (final UncheckedIOException e) {
            throw e.getCause();
        }
        return size;
    }

    /**
     * @param channel  destination.
     * @param bytes    bytes from position to limit; consumed.
     * @param position file offset.
     * @return bytes written.
     * @throws IOException when a write fails.
     */
    static int writeFully(final FileChannel channel, final ByteBuffer bytes, final long position) throws IOException {
        final int length = bytes.remaining();
        int written = 0;
        while (bytes.hasRemaining()) {
            written += channel.write(bytes, position + written);
        }
        return length;
    }
}
