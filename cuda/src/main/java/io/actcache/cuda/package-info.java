/**
 * GPU merge path over the JCuda driver API: {@link io.actcache.cuda.GpuContext} (device, primary context, stream,
 * kernels), {@link io.actcache.cuda.DeviceTensor}, {@link io.actcache.cuda.GpuMergeEngine} (concat, stack,
 * flatten, row-range gather, sum and mean in the CPU path's F32 order, within a memory budget),
 * {@link io.actcache.cuda.DeviceCache} ({@code toDevice}, {@code toHost}, {@code cat}, {@code appendTo}) and
 * {@link io.actcache.cuda.GpuCacheMerge}, which falls back to the CPU path whenever the GPU cannot serve a call.
 *
 * <p>Without a GPU (no JCuda natives, no driver, no device) the module loads and
 * {@link io.actcache.cuda.GpuContext#isAvailable()} says why; every CUDA error is a
 * {@link io.actcache.cuda.CudaException} naming the CUDA error and the operation ({@link io.actcache.cuda.CudaResults}
 * maps codes in one place). Kernels ship as PTX compiled from {@code src/main/cuda/*.cu}; see {@code docs/GPU.md}.
 */
package io.actcache.cuda;
