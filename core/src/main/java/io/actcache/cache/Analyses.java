package io.actcache.cache;

import io.actcache.KeyNotFoundException;
import io.actcache.LayerOutOfRangeException;
import io.actcache.ShapeMismatchException;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * TransformerLens's cache analyses that need only cached tensors and metadata, as views: the results are
 * stacks and computed rows read one window at a time, never a whole key copied onto the heap. Persist one with
 * {@link ActivationCache#put(String, TensorView)}, which streams it into a new column of a store-backed cache.
 *
 * <p>Layers follow TransformerLens: a {@code layer} of {@code null} or {@code -1} means {@code n_layers} (the
 * residual stream right before the unembed), read from the cache's {@link CacheMetadata#N_LAYERS}. Shorthand
 * names ({@code resid_pre}, {@code attn_out}) are looked up as {@link ActivationCache#get(String, int)} does,
 * so caches with easyroutine names ({@code resid_in_3}, {@code resid_out_3}) work too.
 */
public final class Analyses {
    /** Which components {@link #decomposeResid} returns. */
    public enum Mode {
        /** Attention and MLP outputs. */
        ALL,
        /** MLP outputs only. */
        MLP,
        /** Attention outputs only. */
        ATTN
    }

    private static final Set<String> NORMALIZED = Set.of("LN", "LNPre", "RMS", "RMSPre");
    private static final Set<String> CENTERED = Set.of("LN", "LNPre");

    private final ActivationCache cache;

    Analyses(final ActivationCache cache) {
        this.cache = cache;
    }

    /**
     * {@code stack_activation}: the activation at every layer before {@code layer}, stacked.
     *
     * @param name         shorthand, e.g. {@code resid_post} or {@code pattern}.
     * @param layer        layers {@code [0, layer)} are stacked; null or -1 for all.
     * @param sublayerType layer type for the shorthand, or null.
     * @return {@code [layers, ...]}.
     */
    public TensorView stackActivation(final String name, final Integer layer, final String sublayerType) {
        final int upTo = upTo(layer);
        if (upTo == 0) {
            throw new LayerOutOfRangeException("stackActivation('" + name + "') up to layer 0 stacks nothing; "
                + "layer must be at least 1");
        }
        final List<TensorView> parts = new ArrayList<>(upTo);
        final List<String> labels = new ArrayList<>(upTo);
        for (int l = 0; l < upTo; l++) {
            parts.add(cache.get(name, l, sublayerType));
            labels.add(name + " " + l);
        }
        return stack(parts, labels, "stackActivation(" + name + ")");
    }

    /**
     * {@code accumulated_resid}: the residual stream before each layer up to {@code layer}, plus (with
     * {@code inclMid}) the stream between attention and MLP of each earlier layer; {@code layer = n_layers}
     * ends with the final {@code resid_post}. Labels {@code 0_pre}, {@code 0_mid}, ..., {@code final_post}.
     *
     * @param layer    last layer; null or -1 for {@code n_layers}.
     * @param inclMid  whether to add {@code resid_mid} of the layers before {@code layer}.
     * @param mlpInput whether to add {@code resid_mid} of {@code layer} itself (the MLP's input).
     * @return the stack {@code [components, batch, pos, d_model]} and its labels.
     */
    public LabeledStack accumulatedResid(final Integer layer, final boolean inclMid, final boolean mlpInput) {
        final int upTo = upTo(layer);
        final int nLayers = cache.nLayers().orElse(Integer.MAX_VALUE);
        final List<TensorView> parts = new ArrayList<>();
        final List<String> labels = new ArrayList<>();
        for (int l = 0; l <= upTo; l++) {
            if (l == nLayers) {
                parts.add(cache.get("resid_post", nLayers - 1));
                labels.add("final_post");
                continue;
            }
            parts.add(cache.get("resid_pre", l));
            labels.add(l + "_pre");
            if (inclMid && l < upTo || mlpInput && l == upTo) {
                parts.add(cache.get("resid_mid", l));
                labels.add(l + "_mid");
            }
        }
        return new LabeledStack(stack(parts, labels, "accumulatedResid"), labels);
    }

    /**
     * {@code decompose_resid}: the residual stream input to {@code layer} as the sum of its parts: the
     * embeddings (when cached), then each earlier layer's attention and MLP outputs. Labels {@code embed},
     * {@code pos_embed}, {@code 0_attn_out}, {@code 0_mlp_out}, ...
     *
     * @param layer      the layer whose input is decomposed; null or -1 for {@code n_layers}.
     * @param mlpInput   whether to add {@code layer}'s own attention output (the MLP's input).
     * @param mode       which outputs to include; MLP outputs are left out for {@code attn_only} models.
     * @param inclEmbeds whether to include {@code hook_embed} and {@code hook_pos_embed}.
     * @return the stack and its labels.
     */
    public LabeledStack decomposeResid(final Integer layer, final boolean mlpInput, final Mode mode,
        final boolean inclEmbeds) {
        final int upTo = upTo(layer);
        final boolean attn = mode != Mode.MLP;
        final boolean mlp = mode != Mode.ATTN
            && !Boolean.parseBoolean(cache.metadata().getOrDefault(CacheMetadata.ATTN_ONLY, "false"));
        final List<TensorView> parts = new ArrayList<>();
        final List<String> labels = new ArrayList<>();
        if (inclEmbeds) {
            addIfPresent("hook_embed", "embed", parts, labels);
            addIfPresent("hook_pos_embed", "pos_embed", parts, labels);
        }
        for (int l = 0; l < upTo; l++) {
            if (attn) {
                parts.add(cache.get("attn_out", l));
                labels.add(l + "_attn_out");
            }
            if (mlp) {
                parts.add(cache.get("mlp_out", l));
                labels.add(l + "_mlp_out");
            }
        }
        if (mlpInput && attn) {
            parts.add(cache.get("attn_out", upTo));
            labels.add(upTo + "_attn_out");
        }
        if (parts.isEmpty()) {
            throw new ShapeMismatchException("decomposeResid up to layer " + upTo + " with mode " + mode
                + " has no components");
        }
        return new LabeledStack(stack(parts, labels, "decomposeResid"), labels);
    }

    /**
     * {@code apply_ln_to_stack}: treats each component as the input of a layer norm and applies that norm's
     * cached scale: {@code (x - mean(x)) / scale} for {@code LN}/{@code LNPre}, {@code x / scale} for
     * {@code RMS}/{@code RMSPre} (mean over the last dim, F32, summed in order), the stack unchanged for any other
     * {@link CacheMetadata#NORMALIZATION_TYPE}. The scale is {@code ln_final.hook_scale} for layer
     * {@code n_layers}, else {@code blocks.L.ln1.hook_scale} ({@code ln2} with {@code mlpInput}).
     *
     * @param stack    {@code [components, ...scale dims without its last, d_model]}.
     * @param layer    the layer whose input the stack is; null or -1 for {@code n_layers}.
     * @param mlpInput whether it is the MLP's input (ln2) rather than attention's (ln1).
     * @return the scaled stack (F32), computed when read.
     * @throws KeyNotFoundException  naming the scale key when it is not cached.
     * @throws ShapeMismatchException naming both shapes when they do not line up.
     */
    public TensorView applyLnToStack(final TensorView stack, final Integer layer, final boolean mlpInput) {
        final String normalization = cache.metadata().getOrDefault(CacheMetadata.NORMALIZATION_TYPE, "");
        if (!NORMALIZED.contains(normalization)) {
            return stack;
        }
        final int upTo = upTo(layer);
        final String key = upTo == cache.nLayers().orElse(-1) ? "ln_final.hook_scale"
            : "blocks." + upTo + ".ln" + (mlpInput ? 2 : 1) + ".hook_scale";
        if (!cache.contains(key)) {
            throw new KeyNotFoundException("applyLnToStack needs the cached layer-norm scale '" + key
                + "', which is not in the cache");
        }
        final TensorView scale = cache.get(key).duplicate();
        final Shape stackShape = stack.shape();
        final Shape scaleShape = scale.shape();
        if (stackShape.rank() != scaleShape.rank() + 1 || scaleShape.dim(scaleShape.rank() - 1) != 1
            || !sameMiddle(stackShape, scaleShape)) {
            throw new ShapeMismatchException("applyLnToStack: stack " + stackShape + " does not line up with scale '"
                + key + "' " + scaleShape + "; expected [components, ...scale dims but the last, d_model]");
        }
        final boolean center = CENTERED.contains(normalization);
        final int width = Views.rowLength(stackShape, "applyLnToStack(" + key + ")");
        final long scaleRows = scale.elementCount();
        final TensorView source = stack.duplicate();
        return Views.computeRows(stackShape, (row, out) -> {
            source.copyTo(row * width, out, 0, width);
            float mean = 0;
            if (center) {
                for (int i = 0; i < width; i++) {
                    mean += out[i];
                }
                mean /= width;
            }
            final float s = scale.getAsFloat(row % scaleRows);
            for (int i = 0; i < width; i++) {
                out[i] = (out[i] - mean) / s;
            }
        }, "applyLnToStack(" + key + ")");
    }

    // ------------------------------------------------------------------------------------------ package

    /**
     * @param items a cache's values.
     * @return the most common dim 0 among tensors of rank at least 1 (ties: the first in key order); 1 if none.
     */
    static long batchSize(final Map<String, CacheValue> items) {
        final Map<Long, Integer> counts = new LinkedHashMap<>();
        items.values().forEach(value -> {
            if (!value.isList() && value.tensor().shape().rank() > 0) {
                counts.merge(value.tensor().shape().dim(0), 1, Integer::sum);
            }
        });
        long best = 1;
        int bestCount = 0;
        for (final Map.Entry<Long, Integer> entry : counts.entrySet()) {
            if (entry.getValue() > bestCount) {
                best = entry.getKey();
                bestCount = entry.getValue();
            }
        }
        return best;
    }

    /**
     * @param items a cache's values.
     * @param dim0  a leading dim.
     * @return the first key whose tensor has it.
     */
    static String keyWithDim0(final Map<String, CacheValue> items, final long dim0) {
        for (final Map.Entry<String, CacheValue> entry : items.entrySet()) {
            final CacheValue value = entry.getValue();
            if (!value.isList() && value.tensor().shape().rank() > 0 && value.tensor().shape().dim(0) == dim0) {
                return entry.getKey();
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------ internals

    private int upTo(final Integer layer) {
        if (layer == null || layer == -1) {
            if (cache.nLayers().isEmpty()) {
                throw new LayerOutOfRangeException("layer " + layer + " means n_layers, but the cache has no "
                    + CacheMetadata.N_LAYERS + " metadata");
            }
            return cache.nLayers().getAsInt();
        }
        return cache.resolveLayer(layer, true);
    }

    private void addIfPresent(final String key, final String label, final List<TensorView> parts,
        final List<String> labels) {
        if (cache.contains(key)) {
            parts.add(cache.get(key));
            labels.add(label);
        }
    }

    private static TensorView stack(final List<TensorView> parts, final List<String> labels, final String what) {
        final TensorView first = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            final TensorView part = parts.get(i);
            if (part.dtype() != first.dtype() || !part.shape().equals(first.shape())) {
                throw new ShapeMismatchException(what + ": cannot stack " + labels.get(0) + " (" + first.dtype() + " "
                    + first.shape() + ") with " + labels.get(i) + " (" + part.dtype() + " " + part.shape() + ")");
            }
        }
        return Views.concat(parts, first.shape().prepend(parts.size()), what);
    }

    private static boolean sameMiddle(final Shape stack, final Shape scale) {
        for (int i = 0; i < scale.rank() - 1; i++) {
            if (stack.dim(i + 1) != scale.dim(i)) {
                return false;
            }
        }
        return true;
    }
}
