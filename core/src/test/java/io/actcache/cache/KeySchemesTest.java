package io.actcache.cache;

import org.junit.jupiter.api.Test;

import static io.actcache.cache.KeySchemes.Scheme.EASYROUTINE;
import static io.actcache.cache.KeySchemes.Scheme.TRANSFORMER_LENS;
import static io.actcache.cache.KeySchemes.Scheme.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;

class KeySchemesTest {
    @Test
    void shouldRecognizeEasyroutineNamesByFullMatchWithAnyNumberOfDigits() {
        for (final String key : new String[] {"resid_out_0", "resid_in_12", "resid_mid_3", "attn_in_4", "attn_out_5",
            "values_6", "pattern_L12H31", "avg_attn_pattern_L1H1", "input_ids", "mapping_index", "offset"}) {
            assertEquals(EASYROUTINE, KeySchemes.schemeOf(key), key);
        }
        for (final String key : new String[] {"resid_out_3x", "xresid_out_3", "pattern_L1", "resid_out_", "ids"}) {
            assertEquals(UNKNOWN, KeySchemes.schemeOf(key), key);
        }
    }

    @Test
    void shouldRecognizeTransformerLensHookNames() {
        for (final String key : new String[] {"hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre",
            "blocks.11.hook_resid_post", "blocks.3.attn.hook_pattern", "blocks.3.attn.hook_z",
            "blocks.2.mlp.hook_post", "blocks.2.ln1.hook_scale", "ln_final.hook_scale"}) {
            assertEquals(TRANSFORMER_LENS, KeySchemes.schemeOf(key), key);
        }
        assertEquals(UNKNOWN, KeySchemes.schemeOf("blocks.x.hook_resid_pre"));
    }

    @Test
    void shouldExpandShorthandAsGetActNameDoes() {
        assertEquals("blocks.6.attn.hook_k", KeySchemes.actName("k", 6, "a"));
        assertEquals("blocks.2.mlp.hook_pre", KeySchemes.actName("pre", 2, null));
        assertEquals("hook_embed", KeySchemes.actName("embed"));
        assertEquals("blocks.27.ln2.hook_normalized", KeySchemes.actName("normalized", 27, "ln2"));
        assertEquals("blocks.6.attn.hook_k", KeySchemes.actName("k6"));
        assertEquals("blocks.4.ln1.hook_scale", KeySchemes.actName("scale4ln1"));
        assertEquals("blocks.5.mlp.hook_pre", KeySchemes.actName("pre5"));
        assertEquals("blocks.5.attn.hook_pattern", KeySchemes.actName("attn", 5, null));
        assertEquals("blocks.1.attn.hook_v", KeySchemes.actName("value", 1, null));
        assertEquals("blocks.3.hook_resid_post", KeySchemes.actName("resid_post", 3, "b"));
        assertEquals("ln_final.hook_scale", KeySchemes.actName("scale"));
        assertEquals("blocks.0.hook_resid_pre", KeySchemes.actName("blocks.0.hook_resid_pre"));
    }
}
