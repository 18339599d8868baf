package io.actcache.cli;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * The activations of a GPT-2-small-shaped forward pass (12 layers, d_model 768, 12 heads, sequence 128), as
 * TransformerLens names its hooks, generated deterministically: the same (key, batch) always gives the same bytes.
 *
 * <p>Per batch of B sequences: {@code input_ids} I64 [B, 128], and per layer L {@code blocks.L.hook_resid_post},
 * {@code blocks.L.hook_attn_out}, {@code blocks.L.hook_mlp_out} F32 [B, 128, 768] and
 * {@code blocks.L.attn.hook_pattern} F32 [B, 12, 128, 128], whose rows are causal softmax distributions: zero
 * above the diagonal, summing to 1.
 *
 * <p>Design note: one direct tensor per shape is filled in place for every key and batch, and the generator is an
 * inline SplitMix64, so a run of any length allocates nothing per batch and keeps the data off the Java heap. One
 * thread only.
 */
final class DemoActivations {
    /** Transformer blocks. */
    static final int LAYERS = 12;
    /** Width of the residual stream. */
    static final int D_MODEL = 768;
    /** Attention heads per block. */
    static final int HEADS = 12;
    /** Tokens per sequence. */
    static final int SEQ = 128;
    /** GPT-2's vocabulary size: token ids are below it. */
    static final int VOCAB = 50_257;

    private static final String[] HOOKS = {"hook_resid_post", "hook_attn_out", "hook_mlp_out", "attn.hook_pattern"};
    private static final float INV_2_24 = 0x1.0p-24f;

    private final int batchSize;
    private final String[] keys = new String[1 + LAYERS * HOOKS.length];
    private final Tensor ids;
    private final Tensor hidden;
    private final Tensor pattern;
    private final LongBuffer idValues;
    private final FloatBuffer hiddenValues;
    private final FloatBuffer patternValues;
    private final float[] row = new float[D_MODEL];
    private long state;

    /**
     * @param batchSize sequences per batch, 1 to {@link #maxBatchSize()}.
     */
    DemoActivations(final int batchSize) {
        this.batchSize = batchSize;
        keys[0] = "input_ids";
        for (int layer = 0; layer < LAYERS; layer++) {
            for (int hook = 0; hook < HOOKS.length; hook++) {
                keys[1 + layer * HOOKS.length + hook] = "blocks." + layer + "." + HOOKS[hook];
            }
        }
        ids = Tensor.allocate(DType.I64, shape(0, batchSize));
        hidden = Tensor.allocate(DType.F32, shape(1, batchSize));
        pattern = Tensor.allocate(DType.F32, shape(HOOKS.length, batchSize));
        idValues = ids.buffer().asLongBuffer();
        hiddenValues = hidden.buffer().asFloatBuffer();
        patternValues = pattern.buffer().asFloatBuffer();
    }

    /** @return the largest batch size whose biggest tensor (the attention pattern) fits one {@link Tensor}. */
    static int maxBatchSize() {
        return Tensor.MAX_BYTES / (HEADS * SEQ * SEQ * Float.BYTES);
    }

    /** @return the keys written per batch: {@code input_ids}, then each layer's four hooks. */
    String[] keys() {
        return keys.clone();
    }

    /** @return the number of keys. */
    int keyCount() {
        return keys.length;
    }

    /**
     * @param keyIndex index into {@link #keys()}.
     * @return the key.
     */
    String key(final int keyIndex) {
        return keys[keyIndex];
    }

    /**
     * @param keyIndex index into {@link #keys()}.
     * @param rows     dim 0: sequences.
     * @return the key's shape with that many sequences.
     */
    Shape shape(final int keyIndex, final long rows) {
        if (keyIndex == 0) {
            return Shape.of(rows, SEQ);
        }
        return isPattern(keyIndex) ? Shape.of(rows, HEADS, SEQ, SEQ) : Shape.of(rows, SEQ, D_MODEL);
    }

    /** @return bytes of one batch over all keys. */
    long bytesPerBatch() {
        long total = 0;
        for (int k = 0; k < keys.length; k++) {
            total += shape(k, batchSize).byteSize(k == 0 ? DType.I64 : DType.F32);
        }
        return total;
    }

    /**
     * Fills the key's reusable tensor with the values of one batch. The tensor is overwritten by the next call
     * for a key of the same shape, so use (append) it first.
     *
     * @param keyIndex index into {@link #keys()}.
     * @param batch    batch number.
     * @return the filled tensor.
     */
    Tensor fill(final int keyIndex, final int batch) {
        state = 0x243F6A8885A308D3L ^ ((long) keyIndex << 32) ^ batch;
        if (keyIndex == 0) {
            for (int i = 0; i < batchSize * SEQ; i++) {
                idValues.put(i, (next() >>> 1) % VOCAB);
            }
            return ids;
        }
        if (isPattern(keyIndex)) {
            fillPattern();
            return pattern;
        }
        // Residual activations grow with depth; attention and MLP outputs stay small.
        final int layer = (keyIndex - 1) / HOOKS.length;
        final float scale = (keyIndex - 1) % HOOKS.length == 0 ? 1f + 0.25f * layer : 0.5f;
        for (int offset = 0; offset < batchSize * SEQ * D_MODEL; offset += D_MODEL) {
            for (int j = 0; j < D_MODEL; j += 2) {
                final long bits = next(); // two 24-bit uniforms per draw
                row[j] = ((bits >>> 40) * INV_2_24 * 2f - 1f) * scale;
                row[j + 1] = (((bits >>> 16) & 0xFFFFFF) * INV_2_24 * 2f - 1f) * scale;
            }
            hiddenValues.put(offset, row, 0, D_MODEL);
        }
        return hidden;
    }

    /** Causal softmax rows: softmax of logits log(u) is u / sum(u), so no exp is needed. */
    private void fillPattern() {
        int offset = 0;
        for (int matrix = 0; matrix < batchSize * HEADS; matrix++) {
            for (int query = 0; query < SEQ; query++) {
                float sum = 0;
                for (int j = 0; j <= query; j++) {
                    row[j] = 1f - uniform();
                    sum += row[j];
                }
                final float inverse = 1f / sum;
                for (int j = 0; j <= query; j++) {
                    row[j] *= inverse;
                }
                Arrays.fill(row, query + 1, SEQ, 0f);
                patternValues.put(offset, row, 0, SEQ);
                offset += SEQ;
            }
        }
    }

    private static boolean isPattern(final int keyIndex) {
        return keyIndex > 0 && (keyIndex - 1) % HOOKS.length == HOOKS.length - 1;
    }

    /** @return a uniform float in [0, 1) with 24 random bits. */
    private float uniform() {
        return (next() >>> 40) * INV_2_24;
    }

    /** SplitMix64 (Steele, Lea and Flood): fast, and good enough for test data. */
    private long next() {
        long z = state += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
