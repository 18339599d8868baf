package io.actcache.store;

import io.actcache.codec.Codec;

import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Chooses the codec of each new DENSE column by key pattern, as the aggregation registry chooses strategies: a
 * <em>prefix</em> (the key starts with it) or a <em>regex</em> (it must match the whole key). The most specific
 * match wins: the longest prefix, and any prefix over a regex; between regexes the longer pattern text, then the
 * lexicographically smaller. Registration order never matters. A key no rule matches, a scalar (rank 0) and a LIST
 * column are {@link Codec#RAW}. Immutable; build with {@link #builder()}.
 */
public final class CodecPolicy {
    private static final CodecPolicy RAW = builder().build();

    private final TreeMap<String, Codec> prefixes;
    private final TreeMap<String, Map.Entry<Pattern, Codec>> regexes;

    private CodecPolicy(final Builder builder) {
        this.prefixes = new TreeMap<>(builder.prefixes);
        this.regexes = new TreeMap<>(builder.regexes);
    }

    /** @return the policy that keeps every column RAW. */
    public static CodecPolicy raw() {
        return RAW;
    }

    /**
     * @param codec the codec for every key.
     * @return a policy choosing it for every DENSE column of rank at least 1.
     */
    public static CodecPolicy all(final Codec codec) {
        return builder().regex(Pattern.compile("(?s).*"), codec).build();
    }

    /** @return an empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param key a key.
     * @return the codec for a new DENSE column of the key.
     */
    public Codec codecFor(final String key) {
        Map.Entry<String, Codec> best = null;
        for (final Map.Entry<String, Codec> rule : prefixes.entrySet()) {
            if (key.startsWith(rule.getKey()) && (best == null || rule.getKey().length() > best.getKey().length())) {
                best = rule;
            }
        }
        if (best != null) {
            return best.getValue();
        }
        return regexes.entrySet().stream()
            .filter(rule -> rule.getValue().getKey().matcher(key).matches())
            .min(Comparator.comparingInt((Map.Entry<String, Map.Entry<Pattern, Codec>> rule) -> -rule.getKey().length())
                .thenComparing(Map.Entry::getKey))
            .map(rule -> rule.getValue().getValue())
            .orElse(Codec.RAW);
    }

    @Override
    public String toString() {
        final StringBuilder text = new StringBuilder("CodecPolicy[");
        prefixes.forEach((prefix, codec) -> text.append("prefix \"").append(prefix).append("\" -> ").append(codec)
            .append(", "));
        regexes.forEach((regex, rule) -> text.append("regex \"").append(regex).append("\" -> ")
            .append(rule.getValue()).append(", "));
        return text.append("else RAW]").toString();
    }

    /** Builds a {@link CodecPolicy}. Not thread-safe. */
    public static final class Builder {
        private final TreeMap<String, Codec> prefixes = new TreeMap<>();
        private final TreeMap<String, Map.Entry<Pattern, Codec>> regexes = new TreeMap<>();

        private Builder() {
        }

        /**
         * @param prefix keys starting with it; not empty.
         * @param codec  their codec.
         * @return this.
         */
        public Builder prefix(final String prefix, final Codec codec) {
            if (prefix == null || prefix.isEmpty()) {
                throw new IllegalArgumentException("a codec prefix must not be null or empty");
            }
            prefixes.put(prefix, Objects.requireNonNull(codec, "codec"));
            return this;
        }

        /**
         * @param regex keys it matches entirely.
         * @param codec their codec.
         * @return this.
         */
        public Builder regex(final Pattern regex, final Codec codec) {
            regexes.put(regex.pattern(), Map.entry(regex, Objects.requireNonNull(codec, "codec")));
            return this;
        }

        /** @return the policy. */
        public CodecPolicy build() {
            return new CodecPolicy(this);
        }
    }
}
