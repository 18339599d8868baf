package io.actcache.cuda;

import io.actcache.ActCacheException;
import io.actcache.AlreadyClosedException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One CUDA device's primary context, a stream and the merge kernels, over the JCuda driver API; the owner of every
 * {@link DeviceTensor} allocated on it (plain {@code cuMemAlloc}, never managed memory).
 *
 * <pre>{@code
 * if (GpuContext.isAvailable().isAvailable()) {
 *     try (GpuContext gpu = GpuContext.open();
 *          DeviceTensor resid = gpu.upload(cache.get("resid_post", 5))) {
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>All work of a context runs in order on its one non-blocking stream; calls that hand bytes to the host
 * synchronize it. Host transfers go through page-locked, double-buffered staging buffers, or through
 * {@code cuMemHostRegister} of the mapped pages themselves when {@link HostTransferMode} allows and the driver
 * accepts file-backed memory (see {@link HostTransfers}).
 *
 * <p>Threading: one thread at a time; each call makes the context current on the calling thread. {@link #close()}
 * frees the tensors still outstanding, releases everything else, and then throws naming those tensors, so a leak
 * is reported and never kept.
 */
public final class GpuContext implements AutoCloseable {
    private static volatile GpuAvailability availability;

    private final int ordinal;
    private final String deviceName;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<DeviceTensor, Boolean> outstanding = new IdentityHashMap<>();
    private Kernels kernels;
    private HostTransfers transfers;
    private HostTransferMode hostTransferMode = HostTransferMode.AUTO;
    private long allocatedBytes;
    private boolean retained;
    private boolean streamCreated;
    private boolean closed;

    private GpuContext(final int ordinal) {
        this.ordinal = ordinal;
        this.deviceName = GpuAvailability.deviceName(ordinal);
    }

    /**
     * @return whether a GPU can be used and, if not, why; probed once per process.
     */
    public static GpuAvailability isAvailable() {
        GpuAvailability probed = availability;
        if (probed == null) {
            synchronized (GpuContext.class) {
                probed = availability;
                if (probed == null) {
                    probed = GpuAvailability.probe();
                    availability = probed;
                }
            }
        }
        return probed;
    }

    /**
     * @return a context on device 0.
     * @throws GpuUnavailableException with {@link GpuAvailability#reason()} when no GPU can be used.
     */
    public static GpuContext open() {
        return open(0);
    }

    /**
     * @param ordinal a device index, 0 to {@link GpuAvailability#deviceCount()} - 1.
     * @return a context on that device: its primary context retained, a stream created, the kernels loaded.
     * @throws GpuUnavailableException  when no GPU can be used.
     * @throws IllegalArgumentException naming the ordinal and the device count when it is out of range.
     */
    public static GpuContext open(final int ordinal) {
        final GpuAvailability gpu = isAvailable();
        if (!gpu.isAvailable()) {
            throw new GpuUnavailableException("cannot open a GPU context: " + gpu.reason());
        }
        if (ordinal < 0 || ordinal >= gpu.deviceCount()) {
            throw new IllegalArgumentException("device ordinal " + ordinal + " out of [0, " + gpu.deviceCount() + ")");
        }
        final GpuContext opened = new GpuContext(ordinal);
        boolean success = false;
        try {
            opened.start();
            success = true;
            return opened;
        } finally {
            if (!success) {
                opened.release(new ArrayList<>());
            }
        }
    }

    private void start() {
        CudaResults.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CudaResults.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device),
            "cuDevicePrimaryCtxRetain(" + describe() + ")");
        retained = true;
        CudaResults.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(" + describe() + ")");
        CudaResults.check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING),
            "cuStreamCreate(" + describe() + ")");
        streamCreated = true;
        kernels = new Kernels();
    }

    /** @return the device index. */
    public int ordinal() {
        return ordinal;
    }

    /** @return the device's name, such as {@code NVIDIA H100 80GB HBM3}. */
    public String deviceName() {
        return deviceName;
    }

    /** @return how host transfers are made (default {@link HostTransferMode#AUTO}). */
    public HostTransferMode hostTransferMode() {
        return hostTransferMode;
    }

    /**
     * @param mode how later host transfers are made.
     * @return this.
     */
    public GpuContext hostTransferMode(final HostTransferMode mode) {
        checkOpen();
        hostTransferMode = java.util.Objects.requireNonNull(mode, "mode");
        return this;
    }

    /**
     * @return whether {@code cuMemHostRegister} of file-backed mapped memory worked on this machine: empty until an
     *         upload tried it, then {@code registered} or the driver's error.
     */
    public String hostRegistrationResult() {
        checkOpen();
        return transfers == null ? "" : transfers.registrationResult();
    }

    /**
     * @param dtype element type.
     * @param shape shape.
     * @return an uninitialised device tensor (a tensor of 0 bytes holds no allocation).
     * @throws DeviceOutOfMemoryException with the requested and free bytes; nothing is allocated.
     */
    public DeviceTensor allocate(final DType dtype, final Shape shape) {
        checkOpen();
        final long bytes = shape.byteSize(dtype);
        final DevicePointer pointer = new DevicePointer();
        if (bytes > 0) {
            CudaResults.checkAllocation(JCudaDriver.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + " bytes) for "
                + dtype + " " + shape + " on " + describe(), bytes, this::freeBytesOrUnknown);
        }
        final DeviceTensor tensor = new DeviceTensor(this, dtype, shape, pointer, bytes);
        outstanding.put(tensor, Boolean.TRUE);
        allocatedBytes += bytes;
        return tensor;
    }

    /**
     * Uploads a host view (mapped file pages or a tensor's buffer) into a new device tensor.
     *
     * @param view the bytes.
     * @return a device tensor of the view's dtype and shape.
     */
    public DeviceTensor upload(final TensorView view) {
        final DeviceTensor tensor = allocate(view.dtype(), view.shape());
        try {
            upload(view, tensor, 0);
            return tensor;
        } catch (final RuntimeException e) {
            tensor.close();
            throw e;
        }
    }

    /**
     * Uploads a host view into part of an existing device tensor; returns when the bytes are on the device.
     *
     * @param view          the bytes.
     * @param target        destination; same dtype.
     * @param targetByte    byte offset in {@code target}.
     */
    public void upload(final TensorView view, final DeviceTensor target, final long targetByte) {
        checkOpen();
        if (target.dtype() != view.dtype()) {
            throw new io.actcache.ShapeMismatchException("cannot upload " + view.dtype() + " " + view.shape()
                + " into " + target);
        }
        if (targetByte < 0 || targetByte + view.byteSize() > target.byteSize()) {
            throw new IndexOutOfBoundsException("upload of " + view.byteSize() + " bytes at byte " + targetByte
                + " out of " + target);
        }
        transfers().upload(view, target.pointer().withByteOffset(targetByte), view.byteSize());
    }

    /** @return bytes free on the device now ({@code cuMemGetInfo}). */
    public long freeBytes() {
        checkOpen();
        final long[] free = new long[1];
        final long[] total = new long[1];
        CudaResults.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo(" + describe() + ")");
        return free[0];
    }

    /** @return bytes of the device tensors of this context not yet closed. */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** @return device tensors of this context not yet closed. */
    public int outstandingTensors() {
        return outstanding.size();
    }

    /** Waits until all work queued on the context's stream has finished. */
    public void synchronize() {
        checkOpen();
        CudaResults.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize(" + describe() + ")");
    }

    /** @return the stream all work of this context runs on. */
    CUstream stream() {
        checkOpen();
        return stream;
    }

    /** @return the loaded kernels. */
    Kernels kernels() {
        checkOpen();
        return kernels;
    }

    /** @return the host transfer machinery, created on first use. */
    HostTransfers transfers() {
        checkOpen();
        if (transfers == null) {
            transfers = new HostTransfers(this);
        }
        return transfers;
    }

    /**
     * Frees a tensor's memory and forgets it; called by {@link DeviceTensor#close()}.
     *
     * @param tensor a tensor of this context.
     */
    void free(final DeviceTensor tensor) {
        if (outstanding.remove(tensor) == null) {
            return;
        }
        allocatedBytes -= tensor.byteSize();
        if (!closed && tensor.byteSize() > 0) {
            setCurrent();
            CudaResults.check(JCudaDriver.cuMemFree(tensor.rawPointer()), "cuMemFree(" + tensor + ")");
        }
    }

    /** @return {@code device 0 (NVIDIA H100 ...)}, for messages. */
    String describe() {
        return "device " + ordinal + " (" + deviceName + ")";
    }

    /** @throws AlreadyClosedException after {@link #close()}; else makes the context current on this thread. */
    void checkOpen() {
        if (closed) {
            throw new AlreadyClosedException("GPU context on " + describe() + " is closed");
        }
        setCurrent();
    }

    /**
     * Makes the context current on the calling thread, for direct driver calls beside this API (every method of
     * the API does this itself).
     */
    public void makeCurrent() {
        checkOpen();
    }

    private void setCurrent() {
        CudaResults.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent(" + describe() + ")");
    }

    private long freeBytesOrUnknown() {
        final long[] free = new long[1];
        final long[] total = new long[1];
        return JCudaDriver.cuMemGetInfo(free, total) == 0 ? free[0] : -1;
    }

    /**
     * Frees outstanding tensors, the staging buffers, the kernels and the stream, and releases the primary
     * context. Idempotent.
     *
     * @throws ActCacheException naming the tensors that were still open (they are freed all the same).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        final List<String> leaked = new ArrayList<>();
        outstanding.keySet().forEach(tensor -> leaked.add(tensor.toString()));
        final List<RuntimeException> failures = new ArrayList<>();
        for (final DeviceTensor tensor : new ArrayList<>(outstanding.keySet())) {
            try {
                tensor.close();
            } catch (final RuntimeException e) {
                failures.add(e);
            }
        }
        release(failures);
        if (!leaked.isEmpty() || !failures.isEmpty()) {
            final ActCacheException error = new ActCacheException("GPU context on " + describe() + " closed with "
                + leaked.size() + " device tensor(s) still open (now freed): " + leaked);
            failures.forEach(error::addSuppressed);
            throw error;
        }
    }

    private void release(final List<RuntimeException> failures) {
        makeCurrentQuietly();
        closed = true;
        runCollecting(failures, () -> {
            if (transfers != null) {
                transfers.close();
            }
        });
        runCollecting(failures, () -> {
            if (kernels != null) {
                kernels.close();
            }
        });
        runCollecting(failures, () -> {
            if (streamCreated) {
                streamCreated = false;
                CudaResults.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy(" + describe() + ")");
            }
        });
        runCollecting(failures, () -> {
            if (retained) {
                retained = false;
                CudaResults.check(JCudaDriver.cuDevicePrimaryCtxRelease(device),
                    "cuDevicePrimaryCtxRelease(" + describe() + ")");
            }
        });
    }

    private void makeCurrentQuietly() {
        if (retained) {
            JCudaDriver.cuCtxSetCurrent(context);
        }
    }

    private static void runCollecting(final List<RuntimeException> failures, final Runnable step) {
        try {
            step.run();
        } catch (final RuntimeException e) {
            failures.add(e);
        }
    }

    @Override
    public String toString() {
        return "GpuContext[" + describe() + (closed ? ", closed" : ", " + outstanding.size() + " tensors, "
            + allocatedBytes + " bytes") + "]";
    }
}
