package io.actcache.cuda;

import io.actcache.AlreadyClosedException;
import io.actcache.ShapeMismatchException;
import io.actcache.cache.ActivationCache;
import io.actcache.cache.Aggregation;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.HalfFloats;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device merge path against the CPU path, bit for bit, on a real GPU. Skipped with the probe's reason where
 * there is none. Needs about 12 GiB of device memory and 16 GiB of direct host memory for the > 2^31-byte cases.
 */
@RequiresGpu
class GpuMergeEngineTest {
    private static final long GIB = 1L << 30;
    /** Row counts that hit the odd cases: empty, one row, not a multiple of a warp (32), and a DMA-sized part. */
    private static final long[] ROWS = {0, 1, 33, 31, 7, 64 * 1024 + 5};

    private GpuContext gpu;
    private GpuMergeEngine engine;

    @BeforeEach
    void open() {
        gpu = GpuContext.open();
        engine = new GpuMergeEngine(gpu, 8 * GIB);
    }

    @AfterEach
    void close() {
        final int leaked = gpu.outstandingTensors();
        gpu.close();
        assertEquals(0, leaked, "every device tensor of the test was closed");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void shouldConcatStackFlattenAndCopyBitForBitLikeTheCpu(final DType dtype) {
        final List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < ROWS.length; i++) {
            parts.add(GpuTestData.random(dtype, Shape.of(ROWS[i], 67), 17 + i));
        }
        final List<DeviceTensor> device = upload(parts);
        try (DeviceTensor concat = engine.concat("k", device);
             DeviceTensor flat = engine.flatten("k", device);
             DeviceTensor first = engine.copy("k", device.get(2))) {
            assertBitEqual(cpu(Aggregation.concat(), parts), concat);
            assertBitEqual(cpu(Aggregation.flatten(), parts), flat);
            assertBitEqual(parts.get(2).view(), first);
        } finally {
            device.forEach(DeviceTensor::close);
        }
        final List<Tensor> items = new ArrayList<>();
        for (int i = 0; i < 300; i++) { // more than one segment launch (128 ranges each)
            items.add(GpuTestData.random(dtype, Shape.of(3, 11), 100 + i));
        }
        final List<DeviceTensor> deviceItems = upload(items);
        try (DeviceTensor stack = engine.stack("k", deviceItems)) {
            assertBitEqual(cpu(Aggregation.stack(), items), stack);
        } finally {
            deviceItems.forEach(DeviceTensor::close);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void shouldGatherRowRangesBitForBit(final DType dtype) {
        final Tensor a = GpuTestData.random(dtype, Shape.of(100, 9), 1);
        final Tensor b = GpuTestData.random(dtype, Shape.of(1, 9), 2);
        try (DeviceTensor da = gpu.upload(a.view());
             DeviceTensor db = gpu.upload(b.view());
             DeviceTensor gathered = engine.gather("k", List.of(new GpuMergeEngine.RowRange(da, 3, 36),
                 new GpuMergeEngine.RowRange(db, 0, 1), new GpuMergeEngine.RowRange(da, 50, 50),
                 new GpuMergeEngine.RowRange(da, 99, 100)))) {
            final List<Tensor> pieces = List.of(copy(a.view().rows(3, 36)), b, copy(a.view().rows(99, 100)));
            assertBitEqual(cpu(Aggregation.concat(), pieces), gathered);
            final IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> engine.gather("k", List.of(new GpuMergeEngine.RowRange(da, 90, 101))));
            assertTrue(e.getMessage().startsWith("rows [90, 101) out of [0, 100)"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void shouldSumAndAverageInTheCpuOrderBitForBit(final DType dtype) {
        for (final Shape shape : List.of(Shape.of(0, 5), Shape.of(1), Shape.of(33, 17), Shape.of(1000, 1031))) {
            final List<Tensor> terms = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                terms.add(GpuTestData.random(dtype, shape, 31L * i + shape.elementCount()));
            }
            final List<DeviceTensor> device = upload(terms);
            try (DeviceTensor sum = engine.sum("k", device);
                 DeviceTensor mean = engine.mean("k", device)) {
                assertBitEqual(cpu(Aggregation.sum(), terms), sum);
                assertBitEqual(cpu(Aggregation.mean(), terms), mean);
            } finally {
                device.forEach(DeviceTensor::close);
            }
        }
    }

    @Test
    void shouldConvertEveryHalfPrecisionBitPatternExactly() {
        for (final DType dtype : List.of(DType.F16, DType.BF16)) {
            final Tensor all = Tensor.allocate(dtype, Shape.of(65_536));
            for (int bits = 0; bits < 65_536; bits++) {
                all.setShort(bits, (short) bits);
            }
            try (DeviceTensor device = gpu.upload(all.view());
                 DeviceTensor converted = engine.sum("k", List.of(device))) {
                final Tensor host = converted.toHost();
                for (int bits = 0; bits < 65_536; bits++) {
                    final float expected = dtype == DType.F16 ? HalfFloats.f16ToFloat((short) bits)
                        : HalfFloats.bf16ToFloat((short) bits);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(host.view().getFloat(bits)),
                        dtype + " bits 0x" + Integer.toHexString(bits));
                }
            }
        }
    }

    @Test
    void shouldMixDtypesInOneSumLikeTheCpu() {
        final List<Tensor> terms = List.of(GpuTestData.random(DType.BF16, Shape.of(40, 3), 1),
            GpuTestData.random(DType.F32, Shape.of(40, 3), 2), GpuTestData.random(DType.F16, Shape.of(40, 3), 3));
        final List<DeviceTensor> device = upload(terms);
        try (DeviceTensor sum = engine.sum("k", device)) {
            assertBitEqual(cpu(Aggregation.sum(), terms), sum);
        } finally {
            device.forEach(DeviceTensor::close);
        }
    }

    @Test
    void shouldConcatMoreThanTwoGibibytesBitForBit() {
        final List<Tensor> parts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            parts.add(randomBits(DType.F32, Shape.of(201_326_592L + i, 1), 40 + i)); // 768 MiB each
        }
        final List<DeviceTensor> device = upload(parts);
        try (DeviceTensor concat = engine.concat("k", device);
             DeviceDownload download = concat.openDownload()) {
            assertTrue(concat.byteSize() > 2 * GIB, "more than 2^31 bytes: " + concat.byteSize());
            long row = 0;
            for (final Tensor part : parts) {
                final long rows = part.shape().dim(0);
                assertTrue(download.view().rows(row, row + rows).contentEquals(part.view()), "part at row " + row);
                row += rows;
            }
        } finally {
            device.forEach(DeviceTensor::close);
        }
    }

    @Test
    void shouldSumToMoreThanTwoGibibytesBitForBit() {
        final Shape shape = Shape.of(536_870_912L + 33); // F32 result: 2 GiB + 132 bytes
        final List<Tensor> terms = List.of(randomHalf(DType.F16, shape, 5), randomHalf(DType.BF16, shape, 6));
        final List<DeviceTensor> device = upload(terms);
        try (DeviceTensor sum = engine.sum("k", device);
             DeviceDownload download = sum.openDownload()) {
            final TensorView result = download.view();
            final TensorView a = terms.get(0).view();
            final TensorView b = terms.get(1).view();
            for (long i = 0; i < shape.elementCount(); i++) {
                final float expected = a.getAsFloat(i) + b.getAsFloat(i);
                final float actual = result.getFloat(i);
                if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(actual)
                    && !(Float.isNaN(expected) && Float.isNaN(actual))) {
                    throw new AssertionError("element " + i + ": expected " + expected + ", got " + actual);
                }
            }
        } finally {
            device.forEach(DeviceTensor::close);
        }
    }

    @Test
    void shouldReportOutOfMemoryWithRequestedAndFreeBytesAndLeakNothing() {
        gpu.synchronize();
        final long before = gpu.freeBytes();
        final List<DeviceTensor> held = new ArrayList<>();
        DeviceOutOfMemoryException oom = null;
        try {
            while (oom == null) {
                try {
                    held.add(gpu.allocate(DType.U8, Shape.of(GIB)));
                } catch (final DeviceOutOfMemoryException e) {
                    oom = e;
                }
            }
        } finally {
            held.forEach(DeviceTensor::close);
        }
        System.out.println("out of memory after " + held.size() + " GiB: " + oom.getMessage());
        assertEquals(GIB, oom.requestedBytes());
        assertTrue(oom.freeBytes() >= 0 && oom.freeBytes() < GIB, "free bytes " + oom.freeBytes());
        assertTrue(oom.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY") && oom.getMessage().contains("cuMemAlloc"),
            oom.getMessage());
        assertEquals(0, gpu.allocatedBytes());
        final long after = gpu.freeBytes();
        assertTrue(Math.abs(after - before) < 64L << 20, "free memory back to " + before + ", is " + after);
    }

    @Test
    void shouldRefuseAnAllocationBeyondTheBudgetAndLeaveNothingBehind() {
        final GpuMergeEngine small = new GpuMergeEngine(gpu, 1 << 20);
        final Tensor part = GpuTestData.random(DType.F32, Shape.of(1024, 64), 3); // 256 KiB
        try (DeviceTensor a = small.allocate(DType.F32, Shape.of(1024, 64));
             DeviceTensor b = small.allocate(DType.F32, Shape.of(1024, 64))) {
            gpu.upload(part.view(), a, 0);
            gpu.upload(part.view(), b, 0);
            final DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                () -> small.concat("k", List.of(a, b, a)));
            assertEquals(786_432, e.requestedBytes());
            assertEquals((1 << 20) - 524_288, e.freeBytes());
            assertEquals(524_288, small.usedBytes());
            assertEquals(2, gpu.outstandingTensors());
        }
        assertEquals(0, small.usedBytes());
    }

    @Test
    void shouldStreamASumLargerThanTheBudgetThroughIt(@TempDir final Path dir) {
        final Shape shape = Shape.of(105_000_000L + 3); // ~400 MiB of F32 per term, 1.2 GiB of input in all
        try (ActivationStore store = ActivationStore.create(dir.resolve("store"), StoreOptions.defaults())) {
            final List<TensorView> terms = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                writeRandom(store, "term" + t, t == 1 ? DType.BF16 : DType.F32, shape.elementCount(), 70 + t);
                terms.add(store.get("term" + t));
            }
            final long inputBytes = terms.stream().mapToLong(TensorView::byteSize).sum();
            for (final long budget : new long[] {GIB, 16L << 20}) {
                final GpuMergeEngine bounded = new GpuMergeEngine(gpu, budget);
                assertTrue(inputBytes > budget);
                bounded.reduceInto(store, "sum", terms, false);
                bounded.reduceInto(store, "mean", terms, true);
                assertTrue(bounded.peakBytes() <= budget, "peak " + bounded.peakBytes() + " within " + budget);
                assertEquals(0, bounded.usedBytes());
                assertSumAndMean(terms, store.get("sum"), store.get("mean"));
            }
        }
    }

    @Test
    void shouldRoundTripACacheAndAppendItToAStore(@TempDir final Path dir) {
        final List<ActivationCache> batches = GpuCacheMergeTest.batches(2, new long[] {9, 33});
        try (ActivationStore store = ActivationStore.create(dir.resolve("store"), StoreOptions.defaults());
             DeviceCache first = DeviceCache.toDevice(gpu, batches.get(0));
             DeviceCache second = DeviceCache.toDevice(gpu, batches.get(1))) {
            GpuCacheMergeTest.assertSameContent(batches.get(0), first.toHost());
            first.appendTo(store);
            second.appendTo(store);
            for (final String key : first.keys()) {
                final ActivationCache expected = ActivationCache.onHeap();
                expected.cat(onlyKey(batches.get(0), key));
                expected.cat(onlyKey(batches.get(1), key));
                final TensorView stored = store.get(key);
                if (stored.shape().rank() > 0) {
                    assertTrue(expected.get(key).contentEquals(stored), key);
                }
            }
        }
    }

    @Test
    void shouldCatDeviceCachesByTheRegistryLikeTheCpu() {
        final List<ActivationCache> batches = GpuCacheMergeTest.batches(4, new long[] {0, 1, 33, 300});
        final ActivationCache expected = GpuCacheMergeTest.registered(ActivationCache.onHeap())
            .registerAggregation("blocks.0.hook_sum_f16", Aggregation.mean());
        batches.forEach(expected::cat);
        final List<DeviceCache> device = new ArrayList<>();
        try {
            for (final ActivationCache batch : batches) {
                device.add(DeviceCache.toDevice(engine, batch));
            }
            try (DeviceCache merged = DeviceCache.cat(engine, expected.aggregations(), device)) {
                GpuCacheMergeTest.assertSameContent(expected, merged.toHost());
            }
        } finally {
            device.forEach(DeviceCache::close);
        }
    }

    @Test
    void shouldCatDeviceCachesIntoAStoreBackedCacheLikeTheCpu(@TempDir final Path dir) {
        final List<ActivationCache> batches = GpuCacheMergeTest.batches(3, new long[] {5, 0, 70});
        final List<DeviceCache> device = new ArrayList<>();
        try (ActivationStore cpuStore = ActivationStore.create(dir.resolve("cpu"), StoreOptions.defaults());
             ActivationStore gpuStore = ActivationStore.create(dir.resolve("gpu"), StoreOptions.defaults());
             ActivationCache expected = GpuCacheMergeTest.registered(ActivationCache.over(cpuStore));
             ActivationCache actual = GpuCacheMergeTest.registered(ActivationCache.over(gpuStore))) {
            for (final ActivationCache batch : batches) {
                device.add(DeviceCache.toDevice(gpu, batch));
            }
            batches.forEach(expected::cat);
            assertEquals("gpu", DeviceCache.catInto(engine, actual, device));
            GpuCacheMergeTest.assertSameContent(expected, actual);

            batches.forEach(expected::cat); // a non-empty target takes the CPU path, with the same result
            assertEquals("cpu: the target already holds keys", DeviceCache.catInto(engine, actual, device));
            GpuCacheMergeTest.assertSameContent(expected, actual);
        } finally {
            device.forEach(DeviceCache::close);
        }
    }

    @Test
    void shouldUploadMappedPagesStagedAndRegisteredAlike(@TempDir final Path dir) {
        try (ActivationStore store = ActivationStore.create(dir.resolve("store"), StoreOptions.defaults())) {
            writeRandom(store, "big", DType.F32, 40_000_000L, 9); // 160 MiB: AUTO tries registration
            final TensorView view = store.get("big");
            for (final HostTransferMode mode : HostTransferMode.values()) {
                gpu.hostTransferMode(mode);
                try (DeviceTensor device = gpu.upload(view);
                     DeviceDownload download = device.openDownload()) {
                    assertTrue(download.view().contentEquals(view), mode.name());
                } catch (final CudaException e) {
                    assertEquals(HostTransferMode.REGISTERED, mode, "only a forced registration may fail: " + e);
                    assertTrue(e.getMessage().contains("cuMemHostRegister"), e.getMessage());
                }
                System.out.println("host transfer " + mode + ": cuMemHostRegister on a file mapping: "
                    + gpu.hostRegistrationResult());
            }
        }
    }

    @Test
    void shouldFreeOutstandingTensorsOnCloseAndNameThem() {
        final GpuContext other = GpuContext.open();
        final long before = other.freeBytes();
        other.allocate(DType.F16, Shape.of(1024, 1024));
        final io.actcache.ActCacheException e = assertThrows(io.actcache.ActCacheException.class, other::close);
        assertTrue(e.getMessage().contains("1 device tensor(s) still open (now freed): [DeviceTensor[F16 [1024, 1024]"),
            e.getMessage());
        assertTrue(gpu.freeBytes() >= before, "the leaked tensor was freed: " + gpu.freeBytes() + " < " + before);
        assertThrows(AlreadyClosedException.class, other::freeBytes);
        other.close(); // idempotent
    }

    @Test
    void shouldRefuseMismatchedShapesNamingTheKey() {
        try (DeviceTensor a = gpu.allocate(DType.F32, Shape.of(2, 3));
             DeviceTensor b = gpu.allocate(DType.F32, Shape.of(2, 4));
             DeviceTensor c = gpu.allocate(DType.I32, Shape.of(2, 3))) {
            final ShapeMismatchException concat = assertThrows(ShapeMismatchException.class,
                () -> engine.concat("blocks.0.hook_x", List.of(a, b)));
            assertTrue(concat.getMessage().startsWith("cannot concat key 'blocks.0.hook_x' along dim 0"),
                concat.getMessage());
            assertThrows(ShapeMismatchException.class, () -> engine.stack("k", List.of(a, b)));
            final IllegalArgumentException sum = assertThrows(IllegalArgumentException.class,
                () -> engine.sum("k", List.of(c)));
            assertTrue(sum.getMessage().contains("I32"), sum.getMessage());
            assertEquals(3, gpu.outstandingTensors(), "nothing left behind by the failures");
        }
    }

    private List<DeviceTensor> upload(final List<Tensor> tensors) {
        final List<DeviceTensor> device = new ArrayList<>();
        try {
            for (final Tensor tensor : tensors) {
                device.add(gpu.upload(tensor.view()));
            }
            return device;
        } catch (final RuntimeException e) {
            device.forEach(DeviceTensor::close);
            throw e;
        }
    }

    private static TensorView cpu(final Aggregation aggregation, final List<Tensor> batches) {
        final ActivationCache cache = ActivationCache.onHeap().registerAggregation("k", aggregation);
        for (final Tensor batch : batches) {
            final ActivationCache one = ActivationCache.onHeap();
            one.put("k", batch);
            cache.cat(one);
        }
        return cache.get("k");
    }

    private static void assertBitEqual(final TensorView expected, final DeviceTensor actual) {
        assertEquals(expected.dtype(), actual.dtype());
        assertEquals(expected.shape(), actual.shape());
        try (DeviceDownload download = actual.openDownload()) {
            assertTrue(expected.contentEquals(download.view()), "bit-identical to the CPU: " + actual);
        }
    }

    private static ActivationCache onlyKey(final ActivationCache batch, final String key) {
        final ActivationCache one = ActivationCache.onHeap().registerAggregation(key, Aggregation.concat());
        one.put(key, batch.get(key));
        return one;
    }

    private static Tensor copy(final TensorView view) {
        final Tensor tensor = Tensor.allocate(view.dtype(), view.shape());
        view.copyTo(tensor.buffer());
        return tensor;
    }

    /** Random bytes (NaNs included): for copies, where only bytes matter. */
    private static Tensor randomBits(final DType dtype, final Shape shape, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, shape);
        final ByteBuffer buffer = tensor.buffer().order(ByteOrder.LITTLE_ENDIAN);
        final SplittableRandom random = new SplittableRandom(seed);
        while (buffer.remaining() >= Long.BYTES) {
            buffer.putLong(random.nextLong());
        }
        while (buffer.hasRemaining()) {
            buffer.put((byte) random.nextInt());
        }
        return tensor;
    }

    /** Random finite 16-bit values, fast: a random sign, exponent and mantissa per element. */
    private static Tensor randomHalf(final DType dtype, final Shape shape, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, shape);
        final ByteBuffer buffer = tensor.buffer().order(ByteOrder.LITTLE_ENDIAN);
        final SplittableRandom random = new SplittableRandom(seed);
        final int exponentMask = dtype == DType.F16 ? 0x7C00 : 0x7F80;
        while (buffer.hasRemaining()) {
            int bits = random.nextInt() & 0xFFFF;
            if ((bits & exponentMask) == exponentMask) {
                bits &= ~0x4000; // keep it finite
            }
            buffer.putShort((short) bits);
        }
        return tensor;
    }

    private static void writeRandom(final ActivationStore store, final String key, final DType dtype,
        final long elements, final long seed) {
        final long chunk = 8L << 20;
        for (long from = 0, part = 0; from < elements; from += chunk, part++) {
            final long n = Math.min(chunk, elements - from);
            store.append(key, GpuTestData.random(dtype, Shape.of(n), seed * 1000 + part));
        }
    }

    private static void assertSumAndMean(final List<TensorView> terms, final TensorView sum, final TensorView mean) {
        final long n = sum.elementCount();
        final int window = 1 << 20;
        final float[] term = new float[window];
        final float[] expected = new float[window];
        final float[] actualSum = new float[window];
        final float[] actualMean = new float[window];
        for (long from = 0; from < n; from += window) {
            final int count = (int) Math.min(window, n - from);
            terms.get(0).copyTo(from, expected, 0, count);
            for (int t = 1; t < terms.size(); t++) {
                terms.get(t).copyTo(from, term, 0, count);
                for (int i = 0; i < count; i++) {
                    expected[i] += term[i];
                }
            }
            sum.copyTo(from, actualSum, 0, count);
            mean.copyTo(from, actualMean, 0, count);
            for (int i = 0; i < count; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actualSum[i]),
                    "sum element " + (from + i));
                assertEquals(Float.floatToRawIntBits(expected[i] / terms.size()),
                    Float.floatToRawIntBits(actualMean[i]), "mean element " + (from + i));
            }
        }
    }
}
