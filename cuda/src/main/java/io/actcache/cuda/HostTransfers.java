package io.actcache.cuda;

import io.actcache.tensor.TensorView;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;
import org.agrona.BufferUtil;

import java.nio.ByteBuffer;

/**
 * Host-to-device copies from a {@link TensorView} (mapped file pages or a tensor's buffer), for one context.
 *
 * <p>Staged (the default path): the view's bytes go through two page-locked buffers of {@value #STAGING_BYTES}
 * bytes in turn. While the DMA engine reads one ({@code cuMemcpyHtoDAsync}), {@link #FILL_THREADS} threads fill
 * the other from the page cache ({@link ParallelCopier}), so disk or page-cache reads overlap PCIe transfers; an
 * event per buffer says when it may be refilled.
 *
 * <p>Registered: {@code cuMemHostRegister} (read-only) on the view's mapped pages, one async copy straight from
 * them, then {@code cuMemHostUnregister}: no host copy at all, but pinning costs per call and the driver may refuse
 * file-backed memory. Whether it accepts it is a property of the driver and kernel that must be found out on the
 * GPU machine; in {@link HostTransferMode#AUTO} the first large upload tries it and the context remembers the
 * answer ({@link #registrationResult()}), staging from then on if it was refused. Uploads below
 * {@value #REGISTER_MIN_BYTES} bytes always stage: pinning would cost more than the copy.
 *
 * <p>Design note: one Java thread fills a buffer at single-core memcpy speed, below what PCIe Gen5 takes, hence
 * the fill threads; this path's ceiling is the lower of the (parallel) page-cache read bandwidth and PCIe, and
 * the double buffer hides one behind the other.
 */
final class HostTransfers implements AutoCloseable {
    /** Bytes per staging buffer. */
    static final int STAGING_BYTES = 32 << 20;
    /** Threads that fill a staging buffer: half the cores, at most 8 (the GPU machines have 16). */
    static final int FILL_THREADS = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 2));
    /** Smallest upload AUTO tries to register. */
    static final long REGISTER_MIN_BYTES = 64L << 20;
    private static final long PAGE = 4096;

    private final GpuContext context;
    private final ParallelCopier copier = new ParallelCopier(FILL_THREADS);
    private PinnedBuffer[] staging;
    /** Empty until tried; then "registered" or why registration was refused. */
    private String registrationResult = "";
    private boolean registrationRefused;

    HostTransfers(final GpuContext context) {
        this.context = context;
    }

    /** @return the outcome of the first registration attempt, or empty when none was tried. */
    String registrationResult() {
        return registrationResult;
    }

    /**
     * Copies {@code length} bytes of a view to the device; returns when they are there.
     *
     * @param view   source.
     * @param target destination address.
     * @param length bytes, at most the view's.
     */
    void upload(final TensorView view, final CUdeviceptr target, final long length) {
        if (length == 0) {
            return;
        }
        final HostTransferMode mode = context.hostTransferMode();
        if (mode == HostTransferMode.REGISTERED || mode == HostTransferMode.AUTO && !registrationRefused
            && length >= REGISTER_MIN_BYTES && isOffHeap(view)) {
            if (uploadRegistered(view, target, length, mode == HostTransferMode.REGISTERED)) {
                return;
            }
        }
        uploadStaged(view, 0, target, length);
    }

    /**
     * Copies bytes {@code [from, from + length)} of a view to the device through the staging buffers and queues
     * the copies on the context's stream; returns once every byte is in a staging buffer or on its way (call
     * {@link GpuContext#synchronize()} or queue dependent work on the same stream).
     *
     * @param view   source.
     * @param from   first byte of the view.
     * @param target destination address of byte {@code from}.
     * @param length bytes.
     */
    void uploadStaged(final TensorView view, final long from, final CUdeviceptr target, final long length) {
        final PinnedBuffer[] buffers = staging();
        long done = 0;
        int next = 0;
        while (done < length) {
            final PinnedBuffer buffer = buffers[next];
            next = 1 - next;
            buffer.awaitIdle(); // its previous DMA has finished: refill it while the other one transfers
            final int n = (int) Math.min(length - done, buffer.capacity());
            final ByteBuffer fill = buffer.buffer();
            view.visitBytes(from + done, n, piece -> copier.copy(piece, fill));
            CudaResults.check(JCudaDriver.cuMemcpyHtoDAsync(target.withByteOffset(done), buffer.pointer(), n,
                context.stream()), "cuMemcpyHtoDAsync(" + n + " bytes of " + view.description() + ")");
            buffer.recordUse(context.stream());
            done += n;
        }
        buffers[0].awaitIdle();
        buffers[1].awaitIdle();
    }

    /** @return true when the view's first byte is in direct (mapped or native) memory, which can be registered. */
    private static boolean isOffHeap(final TensorView view) {
        final boolean[] direct = {false};
        view.visitBytes(0, Math.min(1, view.byteSize()), piece -> direct[0] = piece.isDirect());
        return direct[0];
    }

    private boolean uploadRegistered(final TensorView view, final CUdeviceptr target, final long length,
        final boolean required) {
        final long[] done = {0};
        final boolean[] refused = {false};
        view.visitBytes(0, length, piece -> {
            if (refused[0]) {
                return;
            }
            final int n = piece.remaining();
            if (!piece.isDirect()) {
                refused[0] = true;
                registrationResult = "not tried: " + view.description() + " is on the Java heap";
                return;
            }
            final long address = BufferUtil.address(piece);
            final long misalignment = address & (PAGE - 1);
            final long pages = (misalignment + n + PAGE - 1) / PAGE * PAGE;
            final Pointer base = Pointer.to(piece).withByteOffset(-misalignment);
            final int registered = JCudaDriver.cuMemHostRegister(base, pages, JCudaDriver.CU_MEMHOSTREGISTER_READ_ONLY);
            if (registered != CUresult.CUDA_SUCCESS) {
                refused[0] = true;
                registrationResult = "refused: cuMemHostRegister(" + pages + " bytes of " + view.description()
                    + ") returned " + CudaResults.errorName(registered);
                return;
            }
            try {
                CudaResults.check(JCudaDriver.cuMemcpyHtoDAsync(target.withByteOffset(done[0]),
                    base.withByteOffset(misalignment), n, context.stream()),
                    "cuMemcpyHtoDAsync(" + n + " registered bytes of " + view.description() + ")");
                CudaResults.check(JCudaDriver.cuStreamSynchronize(context.stream()),
                    "cuStreamSynchronize(registered upload)");
            } finally {
                CudaResults.check(JCudaDriver.cuMemHostUnregister(base), "cuMemHostUnregister(" + view.description()
                    + ")");
            }
            registrationResult = "registered";
            done[0] += n;
        });
        if (!refused[0]) {
            return true;
        }
        if (required) {
            throw new CudaException("HostTransferMode.REGISTERED upload failed: " + registrationResult,
                CUresult.CUDA_ERROR_NOT_SUPPORTED, "cuMemHostRegister(" + view.description() + ")");
        }
        registrationRefused = true;
        if (done[0] < length) {
            uploadStaged(view, done[0], target.withByteOffset(done[0]), length - done[0]);
        }
        return true;
    }

    private PinnedBuffer[] staging() {
        if (staging == null) {
            final PinnedBuffer first = new PinnedBuffer(STAGING_BYTES, "upload staging on " + context.describe());
            try {
                staging = new PinnedBuffer[] {first, new PinnedBuffer(STAGING_BYTES, "upload staging on "
                    + context.describe())};
            } catch (final RuntimeException e) {
                first.close();
                throw e;
            }
        }
        return staging;
    }

    /** Frees the staging buffers and stops the fill threads. Idempotent. */
    @Override
    public void close() {
        copier.close();
        if (staging != null) {
            final PinnedBuffer[] buffers = staging;
            staging = null;
            try {
                buffers[0].close();
            } finally {
                buffers[1].close();
            }
        }
    }
}
