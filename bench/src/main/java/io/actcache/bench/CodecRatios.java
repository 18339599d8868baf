package io.actcache.bench;

import io.actcache.codec.BlockCodec;
import io.actcache.codec.Codec;
import io.actcache.tensor.DType;
import io.actcache.tensor.Tensor;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * Prints the compression ratio (raw bytes / compressed bytes) of LZ4 and SHUFFLE_LZ4 on the same
 * {@link SyntheticActivations} {@link CodecBenchmark} times, for every kind, dtype and block size, as a markdown
 * table. Deterministic (fixed seeds), so one run is the result. Usage: {@code java -cp benchmarks.jar
 * io.actcache.bench.CodecRatios}.
 */
public final class CodecRatios {
    private CodecRatios() {
    }

    /**
     * @param args ignored.
     */
    public static void main(final String[] args) {
        final StringBuilder out = new StringBuilder(2048);
        out.append("| kind | dtype | block KiB | LZ4 | SHUFFLE_LZ4 |\n|---|---|---:|---:|---:|\n");
        for (final String kind : new String[] {"resid", "attn", "input_ids"}) {
            for (final String dtype : kind.equals("input_ids") ? new String[] {"I64"}
                : new String[] {"F32", "F16", "BF16"}) {
                final Tensor data = SyntheticActivations.of(kind, dtype.equals("I64") ? DType.F32 : DType.valueOf(dtype),
                    CodecBenchmark.DATA_BYTES, 42);
                for (final int blockKiB : new int[] {16, 32, 64, 256}) {
                    out.append(String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.2f |%n", kind, dtype, blockKiB,
                        ratio(data, Codec.LZ4, blockKiB << 10), ratio(data, Codec.SHUFFLE_LZ4, blockKiB << 10)));
                }
            }
        }
        System.out.print(out);
    }

    /**
     * @return raw bytes over the sum of the blocks' compressed bytes.
     */
    static double ratio(final Tensor data, final Codec codec, final int blockSize) {
        final BlockCodec blockCodec = new BlockCodec(codec, data.view().dtype(), blockSize);
        final ByteBuffer raw = data.buffer();
        final ByteBuffer out = ByteBuffer.allocateDirect(BlockCodec.maxCompressedLength(blockSize));
        long compressed = 0;
        for (int at = 0; at < raw.capacity(); at += blockSize) {
            final int length = Math.min(blockSize, raw.capacity() - at);
            compressed += blockCodec.compress(raw.slice(at, length), length, out.clear());
        }
        return (double) raw.capacity() / compressed;
    }
}
