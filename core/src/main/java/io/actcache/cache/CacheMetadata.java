package io.actcache.cache;

/**
 * Names of the metadata a cache's analyses read. Metadata is a string map persisted with a store-backed cache
 * (in the store's manifest and journal); any other name a user adds is kept too.
 */
public final class CacheMetadata {
    /** The model's name, e.g. {@code gpt2}. */
    public static final String MODEL_NAME = "model_name";
    /** Number of transformer blocks; negative layer indexes count back from it. */
    public static final String N_LAYERS = "n_layers";
    /** Attention heads per block. */
    public static final String N_HEADS = "n_heads";
    /** Width of the residual stream. */
    public static final String D_MODEL = "d_model";
    /** Width of one head. */
    public static final String D_HEAD = "d_head";
    /** {@code LN}, {@code LNPre}, {@code RMS}, {@code RMSPre}, or anything else for none. */
    public static final String NORMALIZATION_TYPE = "normalization_type";
    /** {@code true} for attention-only models (no MLP outputs to decompose). */
    public static final String ATTN_ONLY = "attn_only";

    private CacheMetadata() {
    }
}
