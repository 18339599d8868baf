package io.actcache.cuda;

import io.actcache.tensor.DType;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The merge kernels of {@value #PTX_RESOURCE} (compiled from {@code cuda/src/main/cuda/merge.cu}), loaded into a
 * context with {@code cuModuleLoadData}, and their launches. Each launch is asynchronous on the given stream and
 * grid-stride, so one launch covers any element count; a launch of zero elements does nothing.
 */
final class Kernels implements AutoCloseable {
    /** Class-path resource of the PTX. */
    static final String PTX_RESOURCE = "io/actcache/cuda/merge.ptx";
    /** Every kernel the PTX must define, checked by the PTX test without a GPU. */
    static final String[] NAMES = {"actcache_init_f32", "actcache_init_f16", "actcache_init_bf16",
        "actcache_add_f32", "actcache_add_f16", "actcache_add_bf16", "actcache_divide_f32",
        "actcache_copy_segments"};

    private static final int THREADS = 256;
    /** Enough blocks to fill an H100/H200 (132 SMs) several times over; the kernels loop for the rest. */
    private static final long MAX_BLOCKS = 16_384;
    /** Ranges one segment copy takes: {@code ACTCACHE_MAX_SEGMENTS} of merge.cu. */
    static final int MAX_SEGMENTS = 128;
    /** Bytes of the segment copy's by-value table: three arrays of {@link #MAX_SEGMENTS} u64. */
    static final int SEGMENT_PARAM_BYTES = 3 * MAX_SEGMENTS * Long.BYTES;

    private final CUmodule module = new CUmodule();
    private final CUfunction[] functions = new CUfunction[NAMES.length];
    private boolean loaded;

    /** Loads the module into the current context. */
    Kernels() {
        final byte[] ptx = ptx();
        CudaResults.check(JCudaDriver.cuModuleLoadData(module, ptx), "cuModuleLoadData(" + PTX_RESOURCE + ")");
        loaded = true;
        try {
            for (int i = 0; i < NAMES.length; i++) {
                functions[i] = new CUfunction();
                CudaResults.check(JCudaDriver.cuModuleGetFunction(functions[i], module, NAMES[i]),
                    "cuModuleGetFunction(" + NAMES[i] + ")");
            }
        } catch (final RuntimeException e) {
            close();
            throw e;
        }
    }

    /** @return the PTX text as a NUL-terminated byte array, as {@code cuModuleLoadData} takes it. */
    static byte[] ptx() {
        try (InputStream in = Kernels.class.getClassLoader().getResourceAsStream(PTX_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + PTX_RESOURCE + " is missing from the class path");
            }
            final byte[] text = in.readAllBytes();
            final byte[] terminated = new byte[text.length + 1];
            System.arraycopy(text, 0, terminated, 0, text.length);
            return terminated;
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read " + PTX_RESOURCE, e);
        }
    }

    /**
     * {@code acc[i] = (float) term[i]}: the first term of a sum.
     *
     * @param dtype F32, F16 or BF16.
     * @param acc   F32 destination.
     * @param term  source.
     * @param n     elements.
     * @param stream where to run.
     */
    void init(final DType dtype, final CUdeviceptr acc, final CUdeviceptr term, final long n, final CUstream stream) {
        launch(index("actcache_init_", dtype), n, 1, stream, Pointer.to(acc), Pointer.to(term),
            Pointer.to(new long[] {n}));
    }

    /**
     * {@code acc[i] = acc[i] + (float) term[i]}, one binary32 addition.
     *
     * @param dtype F32, F16 or BF16.
     * @param acc   F32 accumulator.
     * @param term  source.
     * @param n     elements.
     * @param stream where to run.
     */
    void add(final DType dtype, final CUdeviceptr acc, final CUdeviceptr term, final long n, final CUstream stream) {
        launch(index("actcache_add_", dtype), n, 1, stream, Pointer.to(acc), Pointer.to(term),
            Pointer.to(new long[] {n}));
    }

    /**
     * {@code out[i] = sum[i] / divisor}, one correctly rounded binary32 division.
     *
     * @param out     F32 destination (may be {@code sum}).
     * @param sum     F32 source.
     * @param divisor the count, as binary32 (as the CPU path converts it).
     * @param n       elements.
     * @param stream  where to run.
     */
    void divide(final CUdeviceptr out, final CUdeviceptr sum, final float divisor, final long n,
        final CUstream stream) {
        launch(index("actcache_divide_f32"), n, 1, stream, Pointer.to(out), Pointer.to(sum),
            Pointer.to(new float[] {divisor}), Pointer.to(new long[] {n}));
    }

    /**
     * Copies up to {@value #MAX_SEGMENTS} byte ranges in one launch; their addresses travel by value in the
     * kernel's parameter space ({@value #SEGMENT_PARAM_BYTES} bytes: sources, destination offsets, lengths).
     *
     * @param dst        destination base.
     * @param sources    source addresses.
     * @param dstOffsets byte offsets in {@code dst}.
     * @param bytes      lengths.
     * @param from       first range to copy.
     * @param count      ranges to copy, at most {@value #MAX_SEGMENTS}.
     * @param stream     where to run.
     */
    void copySegments(final CUdeviceptr dst, final long[] sources, final long[] dstOffsets, final long[] bytes,
        final int from, final int count, final CUstream stream) {
        if (count < 0 || count > MAX_SEGMENTS) {
            throw new IllegalArgumentException("a segment copy takes 0 to " + MAX_SEGMENTS + " ranges, got " + count);
        }
        final ByteBuffer segments = ByteBuffer.allocate(SEGMENT_PARAM_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long longest = 0;
        for (int i = 0; i < count; i++) {
            segments.putLong(i * Long.BYTES, sources[from + i]);
            segments.putLong((MAX_SEGMENTS + i) * Long.BYTES, dstOffsets[from + i]);
            segments.putLong((2 * MAX_SEGMENTS + i) * Long.BYTES, bytes[from + i]);
            longest = Math.max(longest, bytes[from + i]);
        }
        if (longest == 0) {
            return;
        }
        launch(index("actcache_copy_segments"), (longest + 15) / 16, count, stream, Pointer.to(dst),
            Pointer.to(segments.array()), Pointer.to(new int[] {count}));
    }

    private void launch(final int function, final long work, final int rows, final CUstream stream,
        final Pointer... parameters) {
        if (work == 0) {
            return;
        }
        final int blocks = (int) Math.min(MAX_BLOCKS, (work + THREADS - 1) / THREADS);
        CudaResults.check(JCudaDriver.cuLaunchKernel(functions[function], blocks, rows, 1, THREADS, 1, 1, 0, stream,
            Pointer.to(parameters), null), "cuLaunchKernel(" + NAMES[function] + ", " + work + " work items)");
    }

    private static int index(final String prefix, final DType dtype) {
        switch (dtype) {
            case F32: return index(prefix + "f32");
            case F16: return index(prefix + "f16");
            case BF16: return index(prefix + "bf16");
            default: throw new IllegalArgumentException("no " + prefix + " kernel for " + dtype
                + "; the GPU path reduces F32, F16 and BF16");
        }
    }

    private static int index(final String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return i;
            }
        }
        throw new IllegalStateException("unknown kernel " + name);
    }

    /** Unloads the module. Idempotent. */
    @Override
    public void close() {
        if (loaded) {
            loaded = false;
            CudaResults.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload(" + PTX_RESOURCE + ")");
        }
    }
}
