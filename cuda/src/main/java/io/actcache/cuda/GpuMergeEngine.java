package io.actcache.cuda;

import io.actcache.ShapeMismatchException;
import io.actcache.store.ActivationStore;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;

/**
 * The built-in aggregations on the device, within a memory budget: concat along dim 0, stack, flatten, row-range
 * gather, and sum and mean accumulated in F32 in the CPU path's order ({@code s = x_1; s = s + x_2; ...}, then one
 * division), so results equal the CPU's bit for bit (NaN payloads aside: any NaN stays a NaN).
 *
 * <p>Copies: a range of at least {@value #DMA_MIN_BYTES} bytes is one {@code cuMemcpyDtoDAsync} (the copy engine
 * at full bandwidth, nothing to launch per byte); smaller ranges of one merge go together into one
 * {@code actcache_copy_segments} launch per 128 ranges, their addresses passed by value in the kernel's parameters
 * (no table to allocate or upload), which beats a driver call per range when batches are small.
 *
 * <p>Budget: every device allocation the engine makes (results included, until the caller closes them) counts
 * against {@link #budgetBytes()}; one that would exceed it fails with a {@link DeviceOutOfMemoryException} naming
 * the requested and the remaining bytes, leaving nothing allocated. {@link #reduceInto} streams a sum or mean of
 * host views of any size through the budget in windows. Sum and mean take F32, F16 and BF16.
 *
 * <p>Each operation returns after its device work has finished. One thread at a time, like its context.
 */
public final class GpuMergeEngine {
    /** Ranges at least this long are copied by {@code cuMemcpyDtoDAsync}; shorter ones by the segment kernel. */
    public static final long DMA_MIN_BYTES = 4L << 20;
    /** Largest F32 window {@link #reduceInto} computes at once (its pinned host window is this big). */
    static final long MAX_REDUCE_WINDOW_BYTES = 64L << 20;

    private final GpuContext context;
    private final long budgetBytes;
    private long usedBytes;
    private long peakBytes;

    /** A row range {@code [from, to)} of a device tensor, a piece of a {@link #gather}. */
    public static final class RowRange {
        private final DeviceTensor tensor;
        private final long from;
        private final long to;

        /**
         * @param tensor a tensor of rank at least 1.
         * @param from   first row, inclusive.
         * @param to     last row, exclusive.
         */
        public RowRange(final DeviceTensor tensor, final long from, final long to) {
            this.tensor = tensor;
            this.from = from;
            this.to = to;
        }

        /**
         * @param tensor a tensor of rank at least 1.
         * @return all its rows.
         */
        public static RowRange all(final DeviceTensor tensor) {
            if (tensor.shape().rank() == 0) {
                throw new ShapeMismatchException("a row range needs rank >= 1, " + tensor + " is a scalar");
            }
            return new RowRange(tensor, 0, tensor.shape().dim(0));
        }
    }

    /**
     * @param context     the device.
     * @param budgetBytes device bytes the engine may hold at once; at least 1.
     */
    public GpuMergeEngine(final GpuContext context, final long budgetBytes) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("engine budget must be at least 1 byte, got " + budgetBytes);
        }
        this.context = java.util.Objects.requireNonNull(context, "context");
        this.budgetBytes = budgetBytes;
    }

    /** @return the context. */
    public GpuContext context() {
        return context;
    }

    /** @return the budget. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** @return device bytes the engine's allocations hold now. */
    public long usedBytes() {
        return usedBytes;
    }

    /** @return the most device bytes the engine's allocations held at once. */
    public long peakBytes() {
        return peakBytes;
    }

    /**
     * @param dtype element type.
     * @param shape shape.
     * @return a tensor counted against the budget until closed.
     * @throws DeviceOutOfMemoryException when it would exceed the budget or the device's memory.
     */
    public DeviceTensor allocate(final DType dtype, final Shape shape) {
        final long bytes = shape.byteSize(dtype);
        if (bytes > budgetBytes - usedBytes) {
            final String operation = "allocation of " + bytes + " bytes for " + dtype + " " + shape
                + " in a GPU merge engine with a budget of " + budgetBytes + " bytes";
            throw new DeviceOutOfMemoryException(operation + " failed: over budget: requested " + bytes
                + " bytes, " + (budgetBytes - usedBytes) + " bytes free in the budget", CUresult.CUDA_ERROR_OUT_OF_MEMORY,
                operation, bytes, budgetBytes - usedBytes);
        }
        final DeviceTensor tensor = context.allocate(dtype, shape);
        usedBytes += bytes;
        peakBytes = Math.max(peakBytes, usedBytes);
        tensor.onClose(() -> usedBytes -= bytes);
        return tensor;
    }

    /**
     * @param key   the key, for messages.
     * @param parts tensors of one dtype and equal trailing dims, rank at least 1, in order.
     * @return them joined along dim 0.
     */
    public DeviceTensor concat(final String key, final List<DeviceTensor> parts) {
        checkParts(key, parts, "concat");
        final DeviceTensor first = parts.get(0);
        long rows = 0;
        for (final DeviceTensor part : parts) {
            if (part.shape().rank() == 0 || part.dtype() != first.dtype()
                || !first.shape().sameTrailingDims(part.shape())) {
                throw new ShapeMismatchException("cannot concat key '" + key + "' along dim 0: " + first + " and "
                    + part + "; concat needs rank >= 1, one dtype and equal trailing dims");
            }
            rows += part.shape().dim(0);
        }
        final List<RowRange> ranges = new ArrayList<>(parts.size());
        parts.forEach(part -> ranges.add(RowRange.all(part)));
        return copyRanges(first.dtype(), first.shape().withDim0(rows), ranges);
    }

    /**
     * Concat into a tensor the caller allocated (and may reuse): no allocation on the merge path.
     *
     * @param key    the key, for messages.
     * @param parts  tensors of one dtype and equal trailing dims, rank at least 1, in order.
     * @param target a tensor of their dtype whose shape is the concatenation's.
     */
    public void concatInto(final String key, final List<DeviceTensor> parts, final DeviceTensor target) {
        checkParts(key, parts, "concat");
        final List<RowRange> ranges = new ArrayList<>(parts.size());
        long rows = 0;
        for (final DeviceTensor part : parts) {
            if (part.shape().rank() == 0 || part.dtype() != target.dtype()
                || !target.shape().sameTrailingDims(part.shape())) {
                throw new ShapeMismatchException("cannot concat key '" + key + "' into " + target + ": part " + part
                    + "; concat needs rank >= 1, one dtype and equal trailing dims");
            }
            rows += part.shape().dim(0);
            ranges.add(RowRange.all(part));
        }
        if (rows != target.shape().dim(0)) {
            throw new ShapeMismatchException("cannot concat key '" + key + "' into " + target + ": the parts hold "
                + rows + " rows");
        }
        copyInto(target, ranges);
    }

    /**
     * @param key   the key, for messages.
     * @param parts tensors of one dtype and shape.
     * @return {@code [N, ...shape]}.
     */
    public DeviceTensor stack(final String key, final List<DeviceTensor> parts) {
        checkParts(key, parts, "stack");
        final DeviceTensor first = parts.get(0);
        final List<RowRange> ranges = new ArrayList<>(parts.size());
        for (final DeviceTensor part : parts) {
            if (part.dtype() != first.dtype() || !part.shape().equals(first.shape())) {
                throw new ShapeMismatchException("cannot stack key '" + key + "': " + first + " and " + part
                    + "; stacked items need one dtype and shape");
            }
            ranges.add(new RowRange(part, -1, -1));
        }
        return copyRanges(first.dtype(), first.shape().prepend(parts.size()), ranges);
    }

    /**
     * @param key   the key, for messages.
     * @param parts tensors of one dtype, any shapes.
     * @return every element in order, 1-D.
     */
    public DeviceTensor flatten(final String key, final List<DeviceTensor> parts) {
        checkParts(key, parts, "flatten");
        long elements = 0;
        final List<RowRange> ranges = new ArrayList<>(parts.size());
        for (final DeviceTensor part : parts) {
            if (part.dtype() != parts.get(0).dtype()) {
                throw new ShapeMismatchException("cannot flatten key '" + key + "': dtype mismatch, "
                    + parts.get(0) + " and " + part);
            }
            elements += part.shape().elementCount();
            ranges.add(new RowRange(part, -1, -1));
        }
        return copyRanges(parts.get(0).dtype(), Shape.of(elements), ranges);
    }

    /**
     * @param key    the key, for messages.
     * @param tensor a tensor.
     * @return a copy of it (the {@code first} aggregation's result).
     */
    public DeviceTensor copy(final String key, final DeviceTensor tensor) {
        return copyRanges(tensor.dtype(), tensor.shape(), List.of(new RowRange(tensor, -1, -1)));
    }

    /**
     * Row-range gather: the rows of each range, in order, as one tensor.
     *
     * @param key    the key, for messages.
     * @param ranges ranges of tensors of one dtype and equal trailing dims.
     * @return the gathered rows.
     */
    public DeviceTensor gather(final String key, final List<RowRange> ranges) {
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("gather of key '" + key + "' needs at least one row range");
        }
        final DeviceTensor first = ranges.get(0).tensor;
        long rows = 0;
        for (final RowRange range : ranges) {
            final Shape shape = range.tensor.shape();
            if (shape.rank() == 0 || range.tensor.dtype() != first.dtype() || !first.shape().sameTrailingDims(shape)) {
                throw new ShapeMismatchException("cannot gather rows of key '" + key + "': " + first + " and "
                    + range.tensor + "; rows need rank >= 1, one dtype and equal trailing dims");
            }
            if (range.from < 0 || range.to < range.from || range.to > shape.dim(0)) {
                throw new IndexOutOfBoundsException("rows [" + range.from + ", " + range.to + ") out of [0, "
                    + shape.dim(0) + ") of " + range.tensor + " (key '" + key + "')");
            }
            rows += range.to - range.from;
        }
        return copyRanges(first.dtype(), first.shape().withDim0(rows), ranges);
    }

    /**
     * @param key   the key, for messages.
     * @param terms tensors of one shape, F32, F16 or BF16, in merge order.
     * @return their elementwise F32 sum.
     */
    public DeviceTensor sum(final String key, final List<DeviceTensor> terms) {
        return reduce(key, terms, false);
    }

    /**
     * @param key   the key, for messages.
     * @param terms tensors of one shape, F32, F16 or BF16, in merge order.
     * @return their elementwise F32 mean: the sum divided by the count.
     */
    public DeviceTensor mean(final String key, final List<DeviceTensor> terms) {
        return reduce(key, terms, true);
    }

    /**
     * Host (mapped pages) to device concat: uploads each view into its place in one device tensor.
     *
     * @param key   the key, for messages.
     * @param parts host views of one dtype and equal trailing dims.
     * @return the concatenation on the device.
     */
    public DeviceTensor uploadConcat(final String key, final List<TensorView> parts) {
        final DeviceTensor out = allocate(concatDType(key, parts), concatShape(key, parts));
        try {
            uploadConcatInto(key, parts, out);
            return out;
        } catch (final RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /**
     * Host (mapped pages) to device concat into a tensor the caller allocated (and may reuse).
     *
     * @param key    the key, for messages.
     * @param parts  host views of one dtype and equal trailing dims.
     * @param target a tensor of their dtype whose shape is the concatenation's.
     */
    public void uploadConcatInto(final String key, final List<TensorView> parts, final DeviceTensor target) {
        final Shape shape = concatShape(key, parts);
        if (concatDType(key, parts) != target.dtype() || !shape.equals(target.shape())) {
            throw new ShapeMismatchException("cannot concat key '" + key + "' into " + target + ": the parts make "
                + parts.get(0).dtype() + " " + shape);
        }
        long offset = 0;
        for (final TensorView part : parts) {
            context.upload(part, target, offset);
            offset += part.byteSize();
        }
    }

    private static DType concatDType(final String key, final List<TensorView> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("concat of key '" + key + "' needs at least one part");
        }
        return parts.get(0).dtype();
    }

    private static Shape concatShape(final String key, final List<TensorView> parts) {
        concatDType(key, parts); // refuses an empty list
        final TensorView first = parts.get(0);
        long rows = 0;
        for (final TensorView part : parts) {
            if (part.shape().rank() == 0 || part.dtype() != first.dtype()
                || !first.shape().sameTrailingDims(part.shape())) {
                throw new ShapeMismatchException("cannot concat key '" + key + "' along dim 0: " + first.dtype() + " "
                    + first.shape() + " and " + part.dtype() + " " + part.shape() + " (" + part.description() + ")");
            }
            rows += part.shape().dim(0);
        }
        return first.shape().withDim0(rows);
    }

    /**
     * Sums (or averages) host views of any size on the device and puts the F32 result into a store column, in
     * windows that fit the budget: each window uploads its slice of every term (staged), accumulates, and is
     * downloaded while the next is computed. The store commit is one {@code put}.
     *
     * @param store a writable store.
     * @param key   the column to put.
     * @param terms host views of one shape, F32, F16 or BF16, in merge order.
     * @param mean  true to divide by the count.
     */
    public void reduceInto(final ActivationStore store, final String key, final List<TensorView> terms,
        final boolean mean) {
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("reduction of key '" + key + "' needs at least one term");
        }
        final Shape shape = terms.get(0).shape();
        int widest = 1;
        for (final TensorView term : terms) {
            checkReducible(key, term.dtype(), term.shape(), shape, mean);
            widest = Math.max(widest, term.dtype().byteWidth());
        }
        final long elements = shape.elementCount();
        final long fit = (budgetBytes - usedBytes) / (Float.BYTES + widest);
        final long fitting = Math.min(Math.max(1, elements), Math.min(fit, MAX_REDUCE_WINDOW_BYTES / Float.BYTES));
        // Windows of an even number of F32 elements start at multiples of 8 bytes, as ChunkedMemory promises.
        final long window = fitting >= 2 ? fitting & ~1L : fitting;
        if (window < 1) {
            final String operation = "reduction of key '" + key + "' in a GPU merge engine";
            throw new DeviceOutOfMemoryException(operation + " failed: over budget: a window needs "
                + (Float.BYTES + widest) + " bytes per element, " + (budgetBytes - usedBytes) + " bytes free in the "
                + "budget", CUresult.CUDA_ERROR_OUT_OF_MEMORY, operation, Float.BYTES + widest, budgetBytes - usedBytes);
        }
        final int count = terms.size();
        try (DeviceTensor acc = allocate(DType.F32, Shape.of(window));
             DeviceTensor scratch = allocate(DType.U8, Shape.of(window * widest));
             DeviceDownload download = new DeviceDownload(context, DType.F32, shape, window * Float.BYTES,
                 (from, length, host, stream) -> {
                     final long first = from / Float.BYTES;
                     final long n = length / Float.BYTES;
                     for (int t = 0; t < count; t++) {
                         final TensorView term = terms.get(t);
                         final int width = term.dtype().byteWidth();
                         context.transfers().uploadStaged(term, first * width, scratch.pointer(), n * width);
                         if (t == 0) {
                             context.kernels().init(term.dtype(), acc.pointer(), scratch.pointer(), n, stream);
                         } else {
                             context.kernels().add(term.dtype(), acc.pointer(), scratch.pointer(), n, stream);
                         }
                     }
                     if (mean) {
                         context.kernels().divide(acc.pointer(), acc.pointer(), count, n, stream);
                     }
                     CudaResults.check(JCudaDriver.cuMemcpyDtoHAsync(host, acc.pointer(), length, stream),
                         "cuMemcpyDtoHAsync(" + length + " bytes of the " + (mean ? "mean" : "sum") + " of key '"
                             + key + "')");
                 }, (mean ? "mean" : "sum") + " of key '" + key + "' on " + context.describe())) {
            store.put(key, download.view());
        }
    }

    private DeviceTensor reduce(final String key, final List<DeviceTensor> terms, final boolean mean) {
        checkParts(key, terms, mean ? "mean" : "sum");
        final Shape shape = terms.get(0).shape();
        for (final DeviceTensor term : terms) {
            checkReducible(key, term.dtype(), term.shape(), shape, mean);
        }
        final long n = shape.elementCount();
        final DeviceTensor out = allocate(DType.F32, shape);
        try {
            final Kernels kernels = context.kernels();
            kernels.init(terms.get(0).dtype(), out.pointer(), terms.get(0).pointer(), n, context.stream());
            for (int t = 1; t < terms.size(); t++) {
                kernels.add(terms.get(t).dtype(), out.pointer(), terms.get(t).pointer(), n, context.stream());
            }
            if (mean) {
                kernels.divide(out.pointer(), out.pointer(), terms.size(), n, context.stream());
            }
            context.synchronize();
            return out;
        } catch (final RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private static void checkReducible(final String key, final DType dtype, final Shape shape, final Shape expected,
        final boolean mean) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("cannot " + (mean ? "average" : "sum") + " key '" + key + "' on the GPU: "
                + dtype + " " + shape + "; the GPU path reduces F32, F16 and BF16 (the CPU path takes the rest)");
        }
        if (!shape.equals(expected)) {
            throw new ShapeMismatchException("cannot " + (mean ? "average" : "sum") + " key '" + key + "': shapes "
                + expected + " and " + dtype + " " + shape + " differ; shapes must be equal");
        }
    }

    private static void checkParts(final String key, final List<DeviceTensor> parts, final String operation) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException(operation + " of key '" + key + "' needs at least one tensor");
        }
    }

    /** Copies whole tensors (from = -1) or row ranges, in order, into a new tensor of the given shape. */
    private DeviceTensor copyRanges(final DType dtype, final Shape shape, final List<RowRange> ranges) {
        final DeviceTensor out = allocate(dtype, shape);
        try {
            copyInto(out, ranges);
            return out;
        } catch (final RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private void copyInto(final DeviceTensor out, final List<RowRange> ranges) {
        final DType dtype = out.dtype();
        final int count = ranges.size();
        final long[] sources = new long[count];
        final long[] offsets = new long[count];
        final long[] lengths = new long[count];
        int small = 0;
        long offset = 0;
        for (final RowRange range : ranges) {
            final Shape source = range.tensor.shape();
            final long rowBytes = source.rank() == 0 ? 0 : source.rowElements() << dtype.shift();
            final long start = range.from < 0 ? 0 : range.from * rowBytes;
            final long bytes = range.from < 0 ? range.tensor.byteSize() : (range.to - range.from) * rowBytes;
            if (bytes >= DMA_MIN_BYTES) {
                CudaResults.check(JCudaDriver.cuMemcpyDtoDAsync(out.pointer().withByteOffset(offset),
                    range.tensor.pointer().withByteOffset(start), bytes, context.stream()),
                    "cuMemcpyDtoDAsync(" + bytes + " bytes of " + range.tensor + ")");
            } else if (bytes > 0) {
                sources[small] = range.tensor.address() + start;
                offsets[small] = offset;
                lengths[small] = bytes;
                small++;
            }
            offset += bytes;
        }
        for (int from = 0; from < small; from += Kernels.MAX_SEGMENTS) {
            context.kernels().copySegments(out.pointer(), sources, offsets, lengths, from,
                Math.min(Kernels.MAX_SEGMENTS, small - from), context.stream());
        }
        context.synchronize();
    }

}
