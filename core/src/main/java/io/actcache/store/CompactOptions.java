package io.actcache.store;

import io.actcache.codec.Codec;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What {@link ActivationStore#compact(CompactOptions)} does beyond reclaiming space. Immutable; build with
 * {@link #builder()}. The defaults rewrite nothing: compaction then only deletes, trims and rebuilds derived
 * files, and every live column keeps its id, its file and any view taken of it.
 */
public final class CompactOptions {
    private static final CompactOptions DEFAULTS = builder().build();

    private final Pattern rewriteKeys;
    private final Codec codec;

    private CompactOptions(final Builder builder) {
        this.rewriteKeys = builder.rewriteKeys;
        this.codec = builder.codec;
    }

    /** @return options that rewrite no column. */
    public static CompactOptions defaults() {
        return DEFAULTS;
    }

    /** @return a builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @return the keys whose columns are copied into new files (new column ids) in one commit, matched against the
     *     whole key; empty when none are.
     */
    public Optional<Pattern> rewriteKeys() {
        return Optional.ofNullable(rewriteKeys);
    }

    /** @return the codec rewritten DENSE columns get; empty when they keep their own. */
    public Optional<Codec> codec() {
        return Optional.ofNullable(codec);
    }

    /**
     * @param key     a key.
     * @param current its committed column.
     * @return true when the key's column is to be rewritten: selected by the pattern (every key when only a codec
     *     is given) and, when a codec is given, a DENSE column of rank at least 1 in another codec.
     */
    boolean rewrites(final String key, final ColumnDescriptor current) {
        final boolean selected = rewriteKeys != null ? rewriteKeys.matcher(key).matches() : codec != null;
        if (!selected || codec == null) {
            return selected;
        }
        return current.kind() == ColumnKind.DENSE && current.shape().rank() > 0 && current.codec() != codec;
    }

    @Override
    public String toString() {
        return "CompactOptions[rewriteKeys=" + (rewriteKeys == null ? codec == null ? "none" : "all" : rewriteKeys
            .pattern()) + ", codec=" + (codec == null ? "unchanged" : codec) + "]";
    }

    /** Builds {@link CompactOptions}. Not thread-safe. */
    public static final class Builder {
        private Pattern rewriteKeys;
        private Codec codec;

        private Builder() {
        }

        /**
         * Rewrites the columns of the keys that {@code keys} matches as a whole
         * ({@link java.util.regex.Matcher#matches()}, as the aggregation registry matches), each into a new column
         * id, all in one commit. The values stay byte-exact; the old files are deleted by the checkpoint that
         * follows. Views of a rewritten key taken before must be taken again.
         *
         * @param keys a pattern over keys, or null for none.
         * @return this.
         */
        public Builder rewrite(final Pattern keys) {
            this.rewriteKeys = keys;
            return this;
        }

        /**
         * Changes the codec of the rewritten columns: DENSE columns of rank at least 1 whose codec differs are
         * rewritten into {@code codec} (LIST columns and scalars stay RAW). Without {@link #rewrite(Pattern)}, every
         * key is selected. Each column is rewritten into a new column id, all in one commit, so a crash leaves every
         * old column or every new one.
         *
         * @param value the codec, or null to keep each column's own.
         * @return this.
         */
        public Builder codec(final Codec value) {
            this.codec = value;
            return this;
        }

        /** @return the options. */
        public CompactOptions build() {
            return new CompactOptions(this);
        }
    }
}
