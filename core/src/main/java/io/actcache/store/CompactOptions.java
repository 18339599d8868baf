package io.actcache.store;

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

    private CompactOptions(final Builder builder) {
        this.rewriteKeys = builder.rewriteKeys;
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

    /**
     * @param key a key.
     * @return true when the key's column is to be rewritten.
     */
    boolean rewrites(final String key) {
        return rewriteKeys != null && rewriteKeys.matcher(key).matches();
    }

    @Override
    public String toString() {
        return "CompactOptions[rewriteKeys=" + (rewriteKeys == null ? "none" : rewriteKeys.pattern()) + "]";
    }

    /** Builds {@link CompactOptions}. Not thread-safe. */
    public static final class Builder {
        private Pattern rewriteKeys;

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

        /** @return the options. */
        public CompactOptions build() {
            return new CompactOptions(this);
        }
    }
}
