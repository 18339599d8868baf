package io.actcache.interop;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How {@link CacheExporter} writes: which keys, how large a safetensors shard may grow, whether an existing target
 * is replaced, and where progress goes. Immutable; build with {@link #builder()}.
 */
public final class ExportOptions {
    /** Default shard size: 5 GB, as Hugging Face's {@code save_pretrained} shards. */
    public static final long DEFAULT_SHARD_SIZE = 5_000_000_000L;
    private static final ExportOptions DEFAULTS = builder().build();

    private final Pattern keys;
    private final long shardSize;
    private final boolean force;
    private final ProgressListener progress;

    private ExportOptions(final Builder builder) {
        this.keys = builder.keys;
        this.shardSize = builder.shardSize;
        this.force = builder.force;
        this.progress = builder.progress;
    }

    /** @return every key, 5 GB shards, no replacing, no progress reports. */
    public static ExportOptions defaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the pattern keys must match entirely to be exported, or null for every key. */
    public Pattern keys() {
        return keys;
    }

    /** @return the most tensor bytes per safetensors shard (a larger tensor gets a shard of its own). */
    public long shardSize() {
        return shardSize;
    }

    /** @return whether an existing target is replaced. */
    public boolean force() {
        return force;
    }

    /** @return where progress goes. */
    public ProgressListener progress() {
        return progress;
    }

    /** Builds {@link ExportOptions}. */
    public static final class Builder {
        private Pattern keys;
        private long shardSize = DEFAULT_SHARD_SIZE;
        private boolean force;
        private ProgressListener progress = ProgressListener.NONE;

        private Builder() {
        }

        /**
         * @param value a pattern keys must match entirely to be exported; null for every key.
         * @return this.
         */
        public Builder keys(final Pattern value) {
            this.keys = value;
            return this;
        }

        /**
         * @param value the most tensor bytes per safetensors shard, positive.
         * @return this.
         * @throws IllegalArgumentException when not positive.
         */
        public Builder shardSize(final long value) {
            if (value <= 0) {
                throw new IllegalArgumentException("shard size " + value + " must be positive");
            }
            this.shardSize = value;
            return this;
        }

        /**
         * @param value whether to replace an existing target (only one whose files an export could have written:
         *              {@code .safetensors}, {@code .npy} and {@code .json} files).
         * @return this.
         */
        public Builder force(final boolean value) {
            this.force = value;
            return this;
        }

        /**
         * @param value receives bytes written against the total.
         * @return this.
         */
        public Builder progress(final ProgressListener value) {
            this.progress = Objects.requireNonNull(value, "progress");
            return this;
        }

        /** @return the options. */
        public ExportOptions build() {
            return new ExportOptions(this);
        }
    }
}
