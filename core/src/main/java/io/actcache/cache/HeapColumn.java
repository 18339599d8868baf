package io.actcache.cache;

import io.actcache.ShapeMismatchException;
import io.actcache.tensor.ChunkedMemory;
import io.actcache.tensor.DType;
import io.actcache.tensor.MemoryChunk;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.util.Arrays;

/**
 * A heap cache's growable tensor: appended batches are kept as separate direct buffers (segments) behind one
 * {@link ChunkedMemory}, so appending batch N copies batch N only, never the rows before it.
 *
 * <p>Design note: views handed out earlier keep the shape they had, so they never see segments added after
 * them; segments are only added, never changed or removed. Each segment holds whole elements, so no element
 * straddles two chunks. One thread at a time.
 */
final class HeapColumn implements ChunkedMemory {
    private final DType dtype;
    private final Shape rowShape;
    private MemoryChunk[] segments = new MemoryChunk[4];
    private int segmentCount;
    private long rows;
    private long bytes;

    /**
     * @param first the first rows (rank at least 1), in a tensor the column now owns.
     */
    HeapColumn(final Tensor first) {
        this.dtype = first.dtype();
        this.rowShape = first.shape().trailing();
        append(first);
    }

    /**
     * Adds rows already copied into a tensor the column now owns.
     *
     * @param batch dtype and trailing dims equal to the column's.
     */
    void append(final Tensor batch) {
        if (batch.dtype() != dtype || !batch.shape().trailing().equals(rowShape)) {
            throw new ShapeMismatchException("heap column of " + dtype + " rows " + rowShape + " cannot take "
                + batch.dtype() + " " + batch.shape());
        }
        if (segmentCount == segments.length) {
            segments = Arrays.copyOf(segments, segmentCount * 2);
        }
        segments[segmentCount++] = new MemoryChunk(batch.buffer(), bytes);
        rows += batch.shape().dim(0);
        bytes += batch.byteSize();
    }

    /** @return a view of every row appended so far. */
    TensorView view() {
        return new TensorView(dtype, rowShape.prepend(rows), this, 0);
    }

    @Override
    public MemoryChunk chunkFor(final long position, final long requiredEnd) {
        int low = 0;
        int high = segmentCount - 1;
        while (low < high) {
            final int mid = (low + high + 1) >>> 1;
            if (segments[mid].start() <= position) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        // Skip empty segments that start at the same offset.
        while (low < segmentCount - 1 && segments[low].end() <= position) {
            low++;
        }
        return segments[low];
    }

    @Override
    public String description() {
        return "heap column " + dtype + " " + rowShape.prepend(rows) + " in " + segmentCount + " segments";
    }
}
