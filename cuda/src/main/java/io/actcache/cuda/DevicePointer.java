package io.actcache.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A {@link CUdeviceptr} that can tell its address as a number, for kernel parameters that carry addresses by
 * value (the segment copy). Every device tensor's memory is allocated into one of these.
 */
final class DevicePointer extends CUdeviceptr {
    /** @return the device address {@code cuMemAlloc} wrote (0 before allocation). */
    long address() {
        return getNativePointer();
    }
}
