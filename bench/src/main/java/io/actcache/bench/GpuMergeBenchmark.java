package io.actcache.bench;

import io.actcache.cuda.CudaResults;
import io.actcache.cuda.DeviceTensor;
import io.actcache.cuda.GpuAvailability;
import io.actcache.cuda.GpuContext;
import io.actcache.cuda.GpuMergeEngine;
import io.actcache.cuda.HostTransferMode;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * GPU merge (issue 8), each contender beside the baseline its target is stated against, in the same fork:
 * <ul>
 *   <li>{@code deviceConcat} (allocating the result) and {@code deviceConcatInto} (into a reused result) of
 *       {@code batches} device-resident batches of F32 {@code [rows, 768]}, against {@code memcpyDtoD}: one
 *       {@code cuMemcpyDtoDAsync} of the same total bytes (target: concat >= 0.80 of its bandwidth). The same shapes
 *       go to {@code bench/python/torch_cat_gpu.py} for the torch.cat comparison (target >= 1.0x).</li>
 *   <li>{@code hostConcat}: the batches as store columns in the page cache, concatenated into a reused device tensor
 *       through the staged double-buffered upload, against {@code pinnedHtoD}: one {@code cuMemcpyHtoDAsync} of the same bytes
 *       from page-locked memory (target >= 0.70).</li>
 * </ul>
 * Every invocation ends with the device idle, so a score is the whole operation. Without a GPU the setup fails
 * with the probe's reason ({@link GpuContext#isAvailable()}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = {"-Xms2g", "-Xmx2g", "-XX:MaxDirectMemorySize=4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class GpuMergeBenchmark {
    /** Width of a row: GPT-2 small's d_model. */
    public static final int WIDTH = 768;

    /** Batches concatenated per operation. */
    @Param({"16", "64"})
    public int batches;

    /** Rows per batch: 8 (24 KiB, the segment kernel), 1024 (3 MiB) and 4096 (12 MiB, cuMemcpyDtoDAsync). */
    @Param({"8", "1024", "4096"})
    public int rows;

    private GpuContext gpu;
    private GpuMergeEngine engine;
    private final List<DeviceTensor> parts = new ArrayList<>();
    private DeviceTensor target;
    private CUdeviceptr copySource;
    private Pointer pinned;
    private long totalBytes;
    private Path storeDir;
    private ActivationStore store;
    private final List<TensorView> hostParts = new ArrayList<>();

    /** Opens the device, uploads the batches and writes them to a store in the page cache. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        final GpuAvailability availability = GpuContext.isAvailable();
        if (!availability.isAvailable()) {
            throw new IllegalStateException("GpuMergeBenchmark needs a GPU: " + availability.reason());
        }
        gpu = GpuContext.open().hostTransferMode(HostTransferMode.STAGED);
        engine = new GpuMergeEngine(gpu, Long.MAX_VALUE);
        final Shape shape = Shape.of(rows, WIDTH);
        storeDir = Files.createTempDirectory("actcache-gpu-bench");
        store = ActivationStore.create(storeDir.resolve("store"), StoreOptions.defaults());
        for (int b = 0; b < batches; b++) {
            final Tensor batch = Tensor.allocate(DType.F32, shape);
            for (long i = 0; i < shape.elementCount(); i++) {
                batch.setFloat(i, b + i * 1e-3f);
            }
            parts.add(gpu.upload(batch.view()));
            store.put("batch" + b, batch);
        }
        for (int b = 0; b < batches; b++) {
            final TensorView view = store.get("batch" + b);
            view.crc32c(); // read once: the pages are in the page cache, as the target states
            hostParts.add(view);
        }
        totalBytes = (long) batches * shape.byteSize(DType.F32);
        target = gpu.allocate(DType.F32, Shape.of((long) batches * rows, WIDTH));
        copySource = new CUdeviceptr();
        CudaResults.check(JCudaDriver.cuMemAlloc(copySource, totalBytes), "cuMemAlloc(baseline source)");
        pinned = new Pointer();
        CudaResults.check(JCudaDriver.cuMemHostAlloc(pinned, totalBytes, 0), "cuMemHostAlloc(baseline)");
    }

    /** @return the concatenation, allocated by the engine and freed here. */
    @Benchmark
    public long deviceConcat() {
        try (DeviceTensor result = engine.concat("k", parts)) {
            return result.byteSize();
        }
    }

    /** @return bytes written into the reused result. */
    @Benchmark
    public long deviceConcatInto() {
        engine.concatInto("k", parts, target);
        return target.byteSize();
    }

    /** @return bytes of one device-to-device copy of the same size (the baseline). */
    @Benchmark
    public long memcpyDtoD() {
        gpu.makeCurrent();
        CudaResults.check(JCudaDriver.cuMemcpyDtoDAsync(target.pointer(), copySource, totalBytes, null),
            "cuMemcpyDtoDAsync(baseline)");
        CudaResults.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize(baseline)");
        return totalBytes;
    }

    /** @return bytes concatenated from the page cache into the reused device tensor. */
    @Benchmark
    public long hostConcat() {
        engine.uploadConcatInto("k", hostParts, target);
        return target.byteSize();
    }

    /** @return bytes of one pinned host-to-device copy of the same size (the baseline). */
    @Benchmark
    public long pinnedHtoD() {
        gpu.makeCurrent();
        CudaResults.check(JCudaDriver.cuMemcpyHtoDAsync(target.pointer(), pinned, totalBytes, null),
            "cuMemcpyHtoDAsync(baseline)");
        CudaResults.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize(baseline)");
        return totalBytes;
    }

    /** Frees everything. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (gpu == null) {
            return;
        }
        gpu.makeCurrent();
        JCudaDriver.cuMemFreeHost(pinned);
        JCudaDriver.cuMemFree(copySource);
        target.close();
        parts.forEach(DeviceTensor::close);
        gpu.close();
        store.close();
        BenchFiles.deleteTree(storeDir);
    }
}
