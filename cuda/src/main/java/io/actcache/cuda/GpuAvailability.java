package io.actcache.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;

/**
 * Whether this process can use a GPU, and if not, why: GPU work disabled by {@value #DISABLE_PROPERTY}, no JCuda
 * natives for this platform, no CUDA driver ({@code libcuda.so.1}), a driver that refuses ({@code cuInit}
 * fails), or no device. Probed once per process by {@link GpuContext#isAvailable()}.
 */
public final class GpuAvailability {
    /** System property: {@code true} makes every GPU path report unavailable (the CPU path serves). */
    public static final String DISABLE_PROPERTY = "actcache.cuda.disable";

    private final boolean available;
    private final String reason;
    private final int deviceCount;
    private final String deviceName;
    private final int driverVersion;

    private GpuAvailability(final boolean available, final String reason, final int deviceCount,
        final String deviceName, final int driverVersion) {
        this.available = available;
        this.reason = reason;
        this.deviceCount = deviceCount;
        this.deviceName = deviceName;
        this.driverVersion = driverVersion;
    }

    /** @return true when {@link GpuContext#open()} can succeed. */
    public boolean isAvailable() {
        return available;
    }

    /**
     * @return why no GPU can be used (starts with {@code disabled}, {@code no JCuda natives}, {@code no CUDA driver},
     *         {@code CUDA driver refused} or {@code no CUDA device}), or a description of device 0 when one can.
     */
    public String reason() {
        return reason;
    }

    /** @return devices the driver reports (0 when unavailable). */
    public int deviceCount() {
        return deviceCount;
    }

    /** @return device 0's name, or empty when unavailable. */
    public String deviceName() {
        return deviceName;
    }

    /** @return the driver's CUDA version as 1000 * major + 10 * minor (13000 for CUDA 13.0), 0 when unknown. */
    public int driverVersion() {
        return driverVersion;
    }

    @Override
    public String toString() {
        return (available ? "GPU available: " : "GPU unavailable: ") + reason;
    }

    /** @return the probe's result; touches the driver, so {@link GpuContext#isAvailable()} caches it. */
    static GpuAvailability probe() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return unavailable("disabled by -D" + DISABLE_PROPERTY + "=true");
        }
        try {
            JCudaDriver.setExceptionsEnabled(false); // loads libJCudaDriver, which links libcuda.so.1
        } catch (final UnsatisfiedLinkError | NoClassDefFoundError e) {
            final String message = String.valueOf(e.getMessage());
            if (message.contains("libcuda")) {
                return unavailable("no CUDA driver: libcuda.so.1 cannot be loaded (" + firstLine(message) + ")");
            }
            return unavailable("no JCuda natives for " + System.getProperty("os.name") + "/"
                + System.getProperty("os.arch") + " (" + firstLine(message) + ")");
        }
        final int init = JCudaDriver.cuInit(0);
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            return unavailable("no CUDA device: cuInit returned CUDA_ERROR_NO_DEVICE");
        }
        if (init != CUresult.CUDA_SUCCESS) {
            return unavailable("CUDA driver refused: cuInit returned " + CudaResults.errorName(init));
        }
        final int[] count = new int[1];
        final int counted = JCudaDriver.cuDeviceGetCount(count);
        if (counted != CUresult.CUDA_SUCCESS || count[0] == 0) {
            return unavailable("no CUDA device: cuDeviceGetCount returned " + count[0] + " devices ("
                + CudaResults.errorName(counted) + ")");
        }
        final int[] version = new int[1];
        JCudaDriver.cuDriverGetVersion(version);
        final String name = deviceName(0);
        return new GpuAvailability(true, count[0] + " device(s), device 0: " + name + ", driver CUDA "
            + version[0] / 1000 + "." + version[0] % 1000 / 10, count[0], name, version[0]);
    }

    /**
     * @param ordinal a device index.
     * @return its name as the driver reports it.
     */
    static String deviceName(final int ordinal) {
        final CUdevice device = new CUdevice();
        CudaResults.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        final byte[] name = new byte[256];
        CudaResults.check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName(" + ordinal + ")");
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        return new String(name, 0, length, StandardCharsets.UTF_8);
    }

    private static GpuAvailability unavailable(final String reason) {
        return new GpuAvailability(false, reason, 0, "", 0);
    }

    private static String firstLine(final String message) {
        final int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
