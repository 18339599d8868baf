package io.actcache.interop;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How {@link CacheImporter} reads its inputs: which tensors to keep, whether to copy the files' metadata, and
 * where to report progress. Immutable; build with {@link #builder()}.
 */
public final class ImportOptions {
    private static final ImportOptions DEFAULTS = builder().build();

    private final Pattern keys;
    private final boolean metadata;
    private final ProgressListener progress;

    private ImportOptions(final Builder builder) {
        this.keys = builder.keys;
        this.metadata = builder.metadata;
        this.progress = builder.progress;
    }

    /** @return every tensor, metadata copied, no progress reports. */
    public static ImportOptions defaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the pattern a tensor name must match entirely to be imported, or null for every tensor. */
    public Pattern keys() {
        return keys;
    }

    /** @return whether the files' metadata is added to the target's (names it lacks; the first file wins). */
    public boolean metadata() {
        return metadata;
    }

    /** @return where progress goes. */
    public ProgressListener progress() {
        return progress;
    }

    /** Builds {@link ImportOptions}. */
    public static final class Builder {
        private Pattern keys;
        private boolean metadata = true;
        private ProgressListener progress = ProgressListener.NONE;

        private Builder() {
        }

        /**
         * @param value a pattern tensor names must match entirely ({@link java.util.regex.Matcher#matches()}) to be
         *              imported; null for every tensor.
         * @return this.
         */
        public Builder keys(final Pattern value) {
            this.keys = value;
            return this;
        }

        /**
         * @param value whether to add each file's metadata ({@code __metadata__} of safetensors files, the metadata
         *              of an NPY export) to the target: names the target lacks, the first file's value winning.
         * @return this.
         */
        public Builder metadata(final boolean value) {
            this.metadata = value;
            return this;
        }

        /**
         * @param value receives bytes read against the total.
         * @return this.
         */
        public Builder progress(final ProgressListener value) {
            this.progress = Objects.requireNonNull(value, "progress");
            return this;
        }

        /** @return the options. */
        public ImportOptions build() {
            return new ImportOptions(this);
        }
    }
}
