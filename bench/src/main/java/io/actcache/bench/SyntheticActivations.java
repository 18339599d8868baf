package io.actcache.bench;

import io.actcache.tensor.DType;
import io.actcache.tensor.HalfFloats;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic activations shaped like a GPT-2-small cache, for codec benchmarks: what makes real caches
 * compress (or not) is reproduced, not their exact values.
 *
 * <ul>
 * <li><b>Residual streams</b> {@code [batch, seq, dModel]}: Student-t values with 3 degrees of freedom (heavy
 *   tails: a few values 10-100x the typical one), scale 0.5, plus a handful of "massive activation" channels whose
 *   values are 30-60x larger, as measured in real transformers. Mantissas are essentially random.</li>
 * <li><b>Attention patterns</b> {@code [batch, heads, seq, seq]}: each row is a causal softmax over Gaussian logits
 *   (scale 2) with a strong first-token "attention sink", so the upper triangle is exact zeros (about half the
 *   values) and the rest are small positive values summing to one.</li>
 * <li><b>input_ids</b> {@code [batch, seq]} I64: Zipf-distributed token ids over a 50,257-token vocabulary (most
 *   tokens frequent, small ids; high bytes zero).</li>
 * </ul>
 * Floats are converted to F16 (round to nearest even) or BF16 (round to nearest even) as asked. Stateless.
 */
public final class SyntheticActivations {
    /** GPT-2 small's vocabulary size. */
    public static final int VOCAB = 50_257;
    private static final int[] MASSIVE_CHANNELS = {138, 378, 447};

    private SyntheticActivations() {
    }

    /**
     * @param kind  {@code resid}, {@code attn} or {@code input_ids}.
     * @param dtype F32, F16 or BF16 for floats (input_ids are always I64).
     * @param bytes about this many bytes (whole rows of the kind's shape; at least one row).
     * @param seed  random seed.
     * @return the tensor.
     */
    public static Tensor of(final String kind, final DType dtype, final long bytes, final long seed) {
        switch (kind) {
            case "resid": {
                final int dModel = 768;
                final long rows = Math.max(1, bytes / ((long) dModel * dtype.byteWidth()));
                return residual(dtype, rows, dModel, seed);
            }
            case "attn": {
                final int seq = 128;
                final long patterns = Math.max(1, bytes / ((long) seq * seq * dtype.byteWidth()));
                return attention(dtype, patterns, seq, seed);
            }
            case "input_ids": {
                final int seq = 128;
                return inputIds(Math.max(1, bytes / (seq * 8L)), seq, seed);
            }
            default:
                throw new IllegalArgumentException("unknown activation kind '" + kind + "': resid, attn or input_ids");
        }
    }

    /**
     * @return {@code [rows, dModel]} residual stream values.
     */
    public static Tensor residual(final DType dtype, final long rows, final int dModel, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, Shape.of(rows, dModel));
        final ByteBuffer out = tensor.buffer();
        final SplittableRandom random = new SplittableRandom(seed);
        for (long r = 0; r < rows; r++) {
            for (int c = 0; c < dModel; c++) {
                float value = (float) (0.5 * studentT3(random));
                for (final int massive : MASSIVE_CHANNELS) {
                    if (c == massive) {
                        value = (float) ((30 + 30 * random.nextDouble()) * Math.signum(value + 1e-9));
                    }
                }
                put(out, dtype, r * dModel + c, value);
            }
        }
        return tensor;
    }

    /**
     * @return {@code [patterns, seq, seq]} causal softmax patterns (one per batch element and head).
     */
    public static Tensor attention(final DType dtype, final long patterns, final int seq, final long seed) {
        final Tensor tensor = Tensor.allocate(dtype, Shape.of(patterns, seq, seq));
        final ByteBuffer out = tensor.buffer();
        final SplittableRandom random = new SplittableRandom(seed);
        final double[] logits = new double[seq];
        for (long p = 0; p < patterns; p++) {
            for (int q = 0; q < seq; q++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k <= q; k++) {
                    logits[k] = 2 * gaussian(random) + (k == 0 ? 4 : 0);
                    max = Math.max(max, logits[k]);
                }
                double sum = 0;
                for (int k = 0; k <= q; k++) {
                    logits[k] = Math.exp(logits[k] - max);
                    sum += logits[k];
                }
                final long row = (p * seq + q) * seq;
                for (int k = 0; k < seq; k++) {
                    put(out, dtype, row + k, k <= q ? (float) (logits[k] / sum) : 0f);
                }
            }
        }
        return tensor;
    }

    /**
     * @return {@code [rows, seq]} I64 token ids, Zipf-distributed.
     */
    public static Tensor inputIds(final long rows, final int seq, final long seed) {
        final Tensor tensor = Tensor.allocate(DType.I64, Shape.of(rows, seq));
        final ByteBuffer out = tensor.buffer();
        final SplittableRandom random = new SplittableRandom(seed);
        for (long i = 0; i < rows * seq; i++) {
            // Inverse-CDF sample of a Zipf(1) law, approximated continuously: id ~ VOCAB^u - 1.
            final long id = Math.min(VOCAB - 1, (long) Math.pow(VOCAB, random.nextDouble()) - 1);
            out.putLong((int) (i * 8), id);
        }
        return tensor;
    }

    private static void put(final ByteBuffer out, final DType dtype, final long index, final float value) {
        switch (dtype) {
            case F32 -> out.putFloat((int) (index * 4), value);
            case F16 -> out.putShort((int) (index * 2), HalfFloats.floatToF16(value));
            case BF16 -> out.putShort((int) (index * 2), HalfFloats.floatToBf16(value));
            default -> throw new IllegalArgumentException("synthetic floats are F32, F16 or BF16, not " + dtype);
        }
    }

    private static double gaussian(final SplittableRandom random) {
        // Box-Muller; one value per call keeps the generator stateless.
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    private static double studentT3(final SplittableRandom random) {
        final double z = gaussian(random);
        double chi2 = 0;
        for (int i = 0; i < 3; i++) {
            final double g = gaussian(random);
            chi2 += g * g;
        }
        return z / Math.sqrt(chi2 / 3);
    }
}
