package io.actcache.cache;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Chooses each key's {@link Aggregation} by pattern: a <em>prefix</em> (the key starts with it; a whole key is a
 * prefix too) or a <em>regex</em> (it must match the whole key).
 *
 * <p><b>Precedence.</b> The most specific matching pattern wins: the one with the longest <em>literal
 * prefix</em>. A prefix pattern's literal prefix is itself, so an exact key beats every other pattern; a regex's
 * is the text before its first metacharacter ({@code \ ^ $ . | ? * + ( ) [ ] { }}), less the last character
 * when a quantifier follows it. On a tie a prefix beats a regex, and between regexes the longer pattern text wins,
 * then the lexicographically smaller one. Registration order never matters; registering the same prefix (or the
 * same regex text) again replaces its aggregation. A key no pattern matches is concatenated along dim 0.
 *
 * <p>Out of the box (the reference's defaults): {@code mapping_index} keeps the first value, {@code pattern_}
 * and {@code input_ids} keep a list, {@code offset} is flattened. Not thread-safe.
 */
public final class AggregationRegistry {
    private static final String METACHARACTERS = "\\^$.|?*+()[]{}";
    private static final String QUANTIFIERS = "?*+{";

    private final Map<String, Rule> prefixes = new TreeMap<>();
    private final Map<String, Rule> regexes = new TreeMap<>();

    /** What chose a key's aggregation. */
    public static final class Match {
        private final String pattern;
        private final Aggregation aggregation;

        Match(final String pattern, final Aggregation aggregation) {
            this.pattern = pattern;
            this.aggregation = aggregation;
        }

        /** @return the pattern as registered ({@code prefix "pattern_"}, {@code regex "..."}), or {@code default}. */
        public String pattern() {
            return pattern;
        }

        /** @return the aggregation. */
        public Aggregation aggregation() {
            return aggregation;
        }

        @Override
        public String toString() {
            return aggregation + " (" + pattern + ")";
        }
    }

    private static final class Rule {
        final String text;
        final Pattern regex;
        final int literalLength;
        final Aggregation aggregation;

        Rule(final String text, final Pattern regex, final Aggregation aggregation) {
            this.text = text;
            this.regex = regex;
            this.literalLength = regex == null ? text.length() : literalPrefix(text).length();
            this.aggregation = aggregation;
        }

        boolean matches(final String key) {
            return regex == null ? key.startsWith(text) : regex.matcher(key).matches();
        }

        String describe() {
            return (regex == null ? "prefix \"" : "regex \"") + text + "\"";
        }
    }

    private static final Comparator<Rule> MOST_SPECIFIC_FIRST = Comparator
        .<Rule>comparingInt(rule -> -rule.literalLength)
        .thenComparing(rule -> rule.regex != null)
        .thenComparingInt(rule -> -rule.text.length())
        .thenComparing(rule -> rule.text);

    private AggregationRegistry() {
    }

    /** @return a registry holding the reference's defaults. */
    public static AggregationRegistry withDefaults() {
        final AggregationRegistry registry = new AggregationRegistry();
        registry.register("mapping_index", Aggregation.first());
        registry.register("pattern_", Aggregation.keepList());
        registry.register("input_ids", Aggregation.keepList());
        registry.register("offset", Aggregation.flatten());
        return registry;
    }

    /** @return a registry with no patterns: every key is concatenated. */
    public static AggregationRegistry empty() {
        return new AggregationRegistry();
    }

    /** @return an independent copy. */
    public AggregationRegistry copy() {
        final AggregationRegistry copy = new AggregationRegistry();
        copy.prefixes.putAll(prefixes);
        copy.regexes.putAll(regexes);
        return copy;
    }

    /**
     * @param prefix      keys starting with it (a whole key matches itself); not empty.
     * @param aggregation how they merge.
     * @return this.
     */
    public AggregationRegistry register(final String prefix, final Aggregation aggregation) {
        if (prefix == null || prefix.isEmpty()) {
            throw new IllegalArgumentException("an aggregation prefix must not be null or empty");
        }
        prefixes.put(prefix, new Rule(prefix, null, Objects.requireNonNull(aggregation, "aggregation")));
        return this;
    }

    /**
     * @param regex       keys it matches entirely.
     * @param aggregation how they merge.
     * @return this.
     */
    public AggregationRegistry register(final Pattern regex, final Aggregation aggregation) {
        regexes.put(regex.pattern(), new Rule(regex.pattern(), regex, Objects.requireNonNull(aggregation,
            "aggregation")));
        return this;
    }

    /**
     * @param prefix a registered prefix.
     * @return true when it was registered.
     */
    public boolean unregister(final String prefix) {
        return prefixes.remove(prefix) != null;
    }

    /**
     * @param key a key.
     * @return the most specific match, or {@code concat} marked {@code default}.
     */
    public Match resolve(final String key) {
        Rule best = null;
        for (final Map<String, Rule> rules : List.of(prefixes, regexes)) {
            for (final Rule rule : rules.values()) {
                if (rule.matches(key) && (best == null || MOST_SPECIFIC_FIRST.compare(rule, best) < 0)) {
                    best = rule;
                }
            }
        }
        return best == null ? new Match("default", Aggregation.concat()) : new Match(best.describe(), best.aggregation);
    }

    /** @return every pattern, most specific first, as {@code prefix "pattern_" -> keepList}. */
    public List<String> patterns() {
        final List<Rule> all = new ArrayList<>(prefixes.values());
        all.addAll(regexes.values());
        all.sort(MOST_SPECIFIC_FIRST);
        final List<String> out = new ArrayList<>(all.size());
        all.forEach(rule -> out.add(rule.describe() + " -> " + rule.aggregation));
        return out;
    }

    /**
     * @param regex a regex.
     * @return the literal text every match starts with, as the precedence rule counts it.
     */
    static String literalPrefix(final String regex) {
        int end = 0;
        while (end < regex.length() && METACHARACTERS.indexOf(regex.charAt(end)) < 0) {
            end++;
        }
        if (end > 0 && end < regex.length() && QUANTIFIERS.indexOf(regex.charAt(end)) >= 0) {
            end--;
        }
        return regex.substring(0, end);
    }

    @Override
    public String toString() {
        return "AggregationRegistry" + patterns();
    }
}
