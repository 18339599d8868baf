package io.actcache.cache;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class AggregationRegistryTest {
    @Test
    void shouldRegisterTheReferenceDefaults() {
        final AggregationRegistry registry = AggregationRegistry.withDefaults();
        assertSame(Aggregation.first(), registry.resolve("mapping_index").aggregation());
        assertSame(Aggregation.keepList(), registry.resolve("pattern_L3H1").aggregation());
        assertSame(Aggregation.keepList(), registry.resolve("input_ids").aggregation());
        assertSame(Aggregation.flatten(), registry.resolve("offset").aggregation());
        assertSame(Aggregation.concat(), registry.resolve("resid_out_3").aggregation());
        assertEquals("default", registry.resolve("resid_out_3").pattern());
        assertSame(Aggregation.concat(), registry.resolve("avg_attn_pattern_L0H0").aggregation(),
            "prefixes match from the start, as the reference's startswith does");
    }

    @Test
    void shouldPickTheLongestLiteralPrefixWhateverTheRegistrationOrder() {
        for (final boolean reversed : new boolean[] {false, true}) {
            final AggregationRegistry registry = AggregationRegistry.empty();
            final Runnable broad = () -> registry.register("resid_", Aggregation.stack());
            final Runnable narrow = () -> registry.register("resid_out_", Aggregation.sum());
            if (reversed) {
                narrow.run();
                broad.run();
            } else {
                broad.run();
                narrow.run();
            }
            assertSame(Aggregation.sum(), registry.resolve("resid_out_1").aggregation());
            assertSame(Aggregation.stack(), registry.resolve("resid_in_1").aggregation());
        }
    }

    @Test
    void shouldLetAnExactKeyBeatEveryPatternAndALongerRegexBeatAShorterPrefix() {
        final AggregationRegistry registry = AggregationRegistry.withDefaults();
        registry.register(Pattern.compile("pattern_L0H\\d+"), Aggregation.mean());
        registry.register("pattern_L0H3", Aggregation.stack());
        assertSame(Aggregation.mean(), registry.resolve("pattern_L0H2").aggregation(),
            "literal prefix pattern_L0H (11) beats prefix pattern_ (8)");
        assertSame(Aggregation.stack(), registry.resolve("pattern_L0H3").aggregation(), "exact key");
        assertSame(Aggregation.keepList(), registry.resolve("pattern_L1H2").aggregation());
    }

    @Test
    void shouldBreakTiesPrefixFirstThenLongerRegexThenLexicographic() {
        final AggregationRegistry registry = AggregationRegistry.empty();
        registry.register(Pattern.compile("values_.*"), Aggregation.mean());
        registry.register(Pattern.compile("values_\\d+"), Aggregation.sum());
        assertSame(Aggregation.sum(), registry.resolve("values_3").aggregation(), "equal literal prefix: longer text");
        registry.register("values_", Aggregation.stack());
        assertSame(Aggregation.stack(), registry.resolve("values_3").aggregation(),
            "equal literal prefix: prefix wins");
        final AggregationRegistry ties = AggregationRegistry.empty();
        ties.register(Pattern.compile("k(a|b)"), Aggregation.sum());
        ties.register(Pattern.compile("k[ab]."), Aggregation.mean());
        assertSame(Aggregation.sum(), ties.resolve("ka").aggregation());
        assertEquals("regex \"k(a|b)\"", ties.resolve("ka").pattern(), "same length: lexicographically smaller");
    }

    @Test
    void shouldCountTheLiteralPrefixOfARegexUpToItsFirstMetacharacter() {
        assertEquals("pattern_L", AggregationRegistry.literalPrefix("pattern_L\\d+H\\d+"));
        assertEquals("value", AggregationRegistry.literalPrefix("values?_0"), "a quantified character is optional");
        assertEquals("", AggregationRegistry.literalPrefix("^resid"));
        assertEquals("input_ids", AggregationRegistry.literalPrefix("input_ids"));
    }

    @Test
    void shouldReplaceAPatternRegisteredTwice() {
        final AggregationRegistry registry = AggregationRegistry.empty();
        registry.register("x", Aggregation.stack());
        registry.register("x", Aggregation.sum());
        assertSame(Aggregation.sum(), registry.resolve("x").aggregation());
        assertEquals(1, registry.patterns().size());
    }
}
