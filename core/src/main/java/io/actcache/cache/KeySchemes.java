package io.actcache.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two naming schemes a cache understands, and TransformerLens-style shorthand.
 *
 * <ul>
 *   <li><b>easyroutine</b>: {@code resid_out_3}, {@code resid_in_3}, {@code resid_mid_3}, {@code attn_in_3},
 *       {@code attn_out_3}, {@code values_3}, {@code pattern_L5H2}, {@code avg_attn_pattern_L5H2},
 *       {@code input_ids}, {@code mapping_index}, {@code offset}. Unlike the reference's patterns these must
 *       match the whole key and take any number of digits ({@code pattern_L12H3} is valid, {@code resid_out_3x}
 *       is not).</li>
 *   <li><b>TransformerLens</b>: {@code hook_embed}, {@code hook_pos_embed}, {@code hook_tokens},
 *       {@code blocks.3.hook_resid_pre}, {@code blocks.3.attn.hook_pattern}, {@code blocks.3.mlp.hook_post},
 *       {@code blocks.3.ln1.hook_scale}, {@code ln_final.hook_scale}, ...</li>
 * </ul>
 *
 * <p>{@link #actName(String, Integer, String)} turns shorthand into a TransformerLens name as its
 * {@code utils.get_act_name} does: {@code ("resid_post", 3)} is {@code blocks.3.hook_resid_post},
 * {@code ("attn", 5)} is {@code blocks.5.attn.hook_pattern}, {@code ("k6")} is {@code blocks.6.attn.hook_k},
 * {@code ("scale4ln1")} is {@code blocks.4.ln1.hook_scale}, {@code ("scale")} is {@code ln_final.hook_scale}.
 */
public final class KeySchemes {
    /** Which scheme a key follows. */
    public enum Scheme {
        /** easyroutine's names. */
        EASYROUTINE,
        /** TransformerLens hook names. */
        TRANSFORMER_LENS,
        /** Neither: accepted, with one warning per key. */
        UNKNOWN
    }

    private static final Pattern EASYROUTINE = Pattern.compile(
        "(?:resid_out|resid_in|resid_mid|attn_in|attn_out|values)_\\d+"
            + "|(?:avg_attn_pattern|pattern)_L\\d+H\\d+"
            + "|input_ids|mapping_index|offset");

    private static final Pattern TRANSFORMER_LENS = Pattern.compile(
        "hook_(?:embed|pos_embed|tokens)"
            + "|ln_final\\.hook_(?:scale|normalized)"
            + "|blocks\\.\\d+\\.hook_(?:resid_pre|resid_mid|resid_post|attn_out|mlp_out|attn_in|mlp_in"
            + "|q_input|k_input|v_input)"
            + "|blocks\\.\\d+\\.attn\\.hook_(?:q|k|v|z|pattern|attn_scores|result|rot_q|rot_k)"
            + "|blocks\\.\\d+\\.mlp\\.hook_(?:pre|post|mid|pre_linear)"
            + "|blocks\\.\\d+\\.ln(?:1|2)\\.hook_(?:scale|normalized)");

    /** {@code k6}, {@code scale4ln1}: a word, a layer, then an optional layer type. */
    private static final Pattern NAME_LAYER_TYPE = Pattern.compile("([a-z]+)(\\d+)([a-z]?.*)");

    private static final Map<String, String> NAME_ALIASES = Map.of("attn", "pattern", "attn_logits", "attn_scores",
        "key", "k", "query", "q", "value", "v", "mlp_pre", "pre", "mlp_mid", "mid", "mlp_post", "post");
    private static final Map<String, String> LAYER_TYPE_ALIASES = Map.of("a", "attn", "m", "mlp", "b", "",
        "block", "", "blocks", "", "attention", "attn");
    private static final List<String> ATTN_NAMES =
        List.of("k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores");
    private static final List<String> MLP_NAMES = List.of("pre", "post", "mid", "pre_linear");
    private static final List<String> LAYER_NORM_NAMES = List.of("scale", "normalized");
    /** TransformerLens residual names and their easyroutine equivalents, for shorthand over easyroutine caches. */
    private static final Map<String, String> EASYROUTINE_NAMES = Map.of("resid_pre", "resid_in",
        "resid_post", "resid_out", "resid_mid", "resid_mid", "attn_out", "attn_out", "attn_in", "attn_in",
        "resid_in", "resid_in", "resid_out", "resid_out", "values", "values");

    private KeySchemes() {
    }

    /**
     * @param key a key.
     * @return the scheme it follows, matched against the whole key.
     */
    public static Scheme schemeOf(final String key) {
        if (EASYROUTINE.matcher(key).matches()) {
            return Scheme.EASYROUTINE;
        }
        return TRANSFORMER_LENS.matcher(key).matches() ? Scheme.TRANSFORMER_LENS : Scheme.UNKNOWN;
    }

    /**
     * @param name a full hook name (returned as is) or shorthand such as {@code "embed"}, {@code "k6"}.
     * @return the TransformerLens name.
     */
    public static String actName(final String name) {
        return actName(name, null, null);
    }

    /**
     * @param name      shorthand or full name.
     * @param layer     layer index, or null.
     * @param layerType {@code attn}, {@code mlp}, {@code ln1}, {@code ln2}, an alias ({@code a}, {@code m},
     *                  {@code b}, {@code block}, {@code attention}) or null.
     * @return the TransformerLens name, as {@code utils.get_act_name} builds it.
     */
    public static String actName(final String name, final Integer layer, final String layerType) {
        if ((name.contains(".") || name.startsWith("hook_")) && layer == null && layerType == null) {
            return name;
        }
        String base = name;
        String type = layerType;
        String layerText = layer == null ? null : Integer.toString(layer);
        final Matcher matcher = NAME_LAYER_TYPE.matcher(name);
        if (matcher.matches()) {
            base = matcher.group(1);
            layerText = matcher.group(2);
            type = matcher.group(3);
        }
        base = NAME_ALIASES.getOrDefault(base, base);
        if (ATTN_NAMES.contains(base)) {
            type = "attn";
        } else if (MLP_NAMES.contains(base)) {
            type = "mlp";
        } else if (type != null && LAYER_TYPE_ALIASES.containsKey(type)) {
            type = LAYER_TYPE_ALIASES.get(type);
        }
        final StringBuilder full = new StringBuilder();
        if (layerText != null) {
            full.append("blocks.").append(layerText).append('.');
        }
        if (type != null && !type.isEmpty()) {
            full.append(type).append('.');
        }
        full.append("hook_").append(base);
        if (LAYER_NORM_NAMES.contains(base) && layerText == null) {
            full.insert(0, "ln_final.");
        }
        return full.toString();
    }

    /**
     * @param name      shorthand.
     * @param layer     a non-negative layer.
     * @param layerType layer type or null.
     * @return the full keys to try, in order: the TransformerLens name, then the easyroutine name
     *     ({@code resid_out_3} for {@code ("resid_post", 3)}) where one exists.
     */
    static List<String> candidates(final String name, final int layer, final String layerType) {
        final List<String> keys = new ArrayList<>(2);
        keys.add(actName(name, layer, layerType));
        final String easyroutine = EASYROUTINE_NAMES.get(name);
        if (easyroutine != null && layerType == null) {
            keys.add(easyroutine + "_" + layer);
        }
        return keys;
    }
}
