// actcache GPU merge kernels. Compiled to PTX by cuda/compile-ptx.sh (nvcc -ptx -arch=compute_80, no FMA
// contraction, IEEE division, no flush-to-zero) into src/main/resources/io/actcache/cuda/merge.ptx, which the
// Java side loads with cuModuleLoadData. PtxResourceTest fails when the committed PTX does not match this file.
//
// Every kernel takes 64-bit element counts and loops grid-stride, so one launch covers any size (> 2^31 too).
// The arithmetic is the CPU path's (io.actcache.cache.Reductions) step for step: convert each term to F32
// exactly, add one binary32 addition at a time in batch order (__fadd_rn), divide once (__fdiv_rn).

#include <stdint.h>

// Exact binary16 -> binary32, bit for bit as io.actcache.tensor.HalfFloats.f16ToFloat (NaN payload kept).
__device__ __forceinline__ float f16_to_f32(uint16_t h) {
    const uint32_t sign = ((uint32_t) h & 0x8000u) << 16;
    const uint32_t exponent = ((uint32_t) h >> 10) & 0x1Fu;
    const uint32_t mantissa = (uint32_t) h & 0x3FFu;
    if (exponent == 0x1Fu) {
        return __uint_as_float(sign | 0x7F800000u | (mantissa << 13));
    }
    if (exponent == 0u) {
        const float magnitude = __fmul_rn((float) mantissa, 5.9604644775390625e-8f); // 2^-24, exact product
        return sign == 0u ? magnitude : -magnitude;
    }
    return __uint_as_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

// Exact bfloat16 -> binary32: the upper half of the float.
__device__ __forceinline__ float bf16_to_f32(uint16_t b) {
    return __uint_as_float((uint32_t) b << 16);
}

#define GRID_STRIDE(i, n) \
    for (uint64_t i = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (uint64_t) blockDim.x * gridDim.x)

// acc[i] = term[i] as F32: the first term of a sum.
extern "C" __global__ void actcache_init_f32(float* acc, const float* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = term[i]; }
}

extern "C" __global__ void actcache_init_f16(float* acc, const uint16_t* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = f16_to_f32(term[i]); }
}

extern "C" __global__ void actcache_init_bf16(float* acc, const uint16_t* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = bf16_to_f32(term[i]); }
}

// acc[i] = acc[i] + term[i]: one binary32 addition, round to nearest even.
extern "C" __global__ void actcache_add_f32(float* acc, const float* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = __fadd_rn(acc[i], term[i]); }
}

extern "C" __global__ void actcache_add_f16(float* acc, const uint16_t* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = __fadd_rn(acc[i], f16_to_f32(term[i])); }
}

extern "C" __global__ void actcache_add_bf16(float* acc, const uint16_t* term, uint64_t n) {
    GRID_STRIDE(i, n) { acc[i] = __fadd_rn(acc[i], bf16_to_f32(term[i])); }
}

// out[i] = sum[i] / divisor: one correctly rounded binary32 division (the mean).
extern "C" __global__ void actcache_divide_f32(float* out, const float* sum, float divisor, uint64_t n) {
    GRID_STRIDE(i, n) { out[i] = __fdiv_rn(sum[i], divisor); }
}

// Segments one launch of actcache_copy_segments copies, passed by value as a kernel parameter (3 KiB, inside the
// 4 KiB parameter space), so a merge of small batches needs no table allocation or upload, and no synchronization.
#define ACTCACHE_MAX_SEGMENTS 128
struct Segments {
    uint64_t src[ACTCACHE_MAX_SEGMENTS];       // source address of each range
    uint64_t dstOffset[ACTCACHE_MAX_SEGMENTS]; // byte offset of each range in dst
    uint64_t bytes[ACTCACHE_MAX_SEGMENTS];     // length of each range
};

// Copies up to ACTCACHE_MAX_SEGMENTS small byte ranges in one launch. blockIdx.y walks the segments; 16-byte words
// where source and destination are aligned, bytes for the rest. Large ranges go through cuMemcpyDtoDAsync instead
// (see docs/GPU.md).
extern "C" __global__ void actcache_copy_segments(uint8_t* dst, const Segments segments, uint32_t count) {
    for (uint32_t s = blockIdx.y; s < count; s += gridDim.y) {
        const uint8_t* src = (const uint8_t*) segments.src[s];
        uint8_t* out = dst + segments.dstOffset[s];
        const uint64_t length = segments.bytes[s];
        const uint64_t first = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x;
        const uint64_t stride = (uint64_t) blockDim.x * gridDim.x;
        uint64_t done = 0;
        if ((((uintptr_t) src | (uintptr_t) out) & 15u) == 0u) {
            const uint64_t words = length >> 4;
            const uint4* from = (const uint4*) src;
            uint4* to = (uint4*) out;
            for (uint64_t w = first; w < words; w += stride) {
                to[w] = from[w];
            }
            done = words << 4;
        }
        for (uint64_t b = done + first; b < length; b += stride) {
            out[b] = src[b];
        }
    }
}
