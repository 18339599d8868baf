package io.actcache.cache;

import io.actcache.KeyNotFoundException;
import io.actcache.LayerOutOfRangeException;
import io.actcache.tensor.Shape;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static io.actcache.cache.CacheTestSupport.dims;
import static io.actcache.cache.CacheTestSupport.floats;
import static io.actcache.cache.CacheTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A two-layer model with batch 1, two positions and d_model 2, every activation written out by hand so that
 * TransformerLens's definitions can be checked on paper:
 * <pre>
 *   embed        [[1,2],[3,4]]     pos_embed   [[0,1],[1,0]]
 *   0 resid_pre  [[1,3],[4,4]]  = embed + pos_embed
 *   0 attn_out   [[1,1],[0,2]]     0 resid_mid [[2,4],[4,6]]  = resid_pre + attn_out
 *   0 mlp_out    [[2,0],[1,1]]     0 resid_post[[4,4],[5,7]]  = resid_mid + mlp_out
 *   1 resid_pre  [[4,4],[5,7]]  = 0 resid_post
 *   1 attn_out   [[0,2],[1,1]]     1 resid_mid [[4,6],[6,8]]
 *   1 mlp_out    [[2,2],[0,0]]     1 resid_post[[6,8],[6,8]]
 *   ln_final.hook_scale [[2],[4]]  (one scale per position)
 * </pre>
 */
class AnalysesTest {
    @RegisterExtension
    final CacheTestSupport support = new CacheTestSupport();

    private ActivationCache model(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.putMetadata(CacheMetadata.N_LAYERS, "2");
        cache.putMetadata(CacheMetadata.NORMALIZATION_TYPE, "LN");
        put(cache, "hook_embed", 1, 2, 3, 4);
        put(cache, "hook_pos_embed", 0, 1, 1, 0);
        put(cache, "blocks.0.hook_resid_pre", 1, 3, 4, 4);
        put(cache, "blocks.0.hook_attn_out", 1, 1, 0, 2);
        put(cache, "blocks.0.hook_resid_mid", 2, 4, 4, 6);
        put(cache, "blocks.0.hook_mlp_out", 2, 0, 1, 1);
        put(cache, "blocks.0.hook_resid_post", 4, 4, 5, 7);
        put(cache, "blocks.1.hook_resid_pre", 4, 4, 5, 7);
        put(cache, "blocks.1.hook_attn_out", 0, 2, 1, 1);
        put(cache, "blocks.1.hook_resid_mid", 4, 6, 6, 8);
        put(cache, "blocks.1.hook_mlp_out", 2, 2, 0, 0);
        put(cache, "blocks.1.hook_resid_post", 6, 8, 6, 8);
        cache.put("ln_final.hook_scale", floats(dims(1, 2, 1), 2, 4));
        return cache;
    }

    private static void put(final ActivationCache cache, final String key, final float... values) {
        cache.put(key, floats(dims(1, 2, 2), values));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldStackAnActivationOverLayers(final boolean stored) {
        final TensorView stack = model(stored).analyses().stackActivation("resid_post", null, null);
        assertEquals(Shape.of(2, 1, 2, 2), stack.shape());
        assertArrayEquals(new float[] {4, 4, 5, 7, 6, 8, 6, 8}, values(stack));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldAccumulateTheResidualStreamWithLabels(final boolean stored) {
        final ActivationCache cache = model(stored);
        // layer n_layers with incl_mid: each layer's resid_pre and resid_mid, then the final resid_post.
        final LabeledStack all = cache.analyses().accumulatedResid(null, true, false);
        assertEquals(List.of("0_pre", "0_mid", "1_pre", "1_mid", "final_post"), all.labels());
        assertEquals(Shape.of(5, 1, 2, 2), all.stack().shape());
        assertArrayEquals(new float[] {1, 3, 4, 4, 2, 4, 4, 6, 4, 4, 5, 7, 4, 6, 6, 8, 6, 8, 6, 8},
            values(all.stack()));
        // Up to layer 1 as the MLP's input: resid_pre 0, resid_pre 1, then resid_mid 1.
        final LabeledStack mlpIn = cache.analyses().accumulatedResid(1, false, true);
        assertEquals(List.of("0_pre", "1_pre", "1_mid"), mlpIn.labels());
        assertArrayEquals(new float[] {1, 3, 4, 4, 4, 4, 5, 7, 4, 6, 6, 8}, values(mlpIn.stack()));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldDecomposeTheResidualStreamIntoPartsThatSumToIt(final boolean stored) {
        final ActivationCache cache = model(stored);
        final LabeledStack parts = cache.analyses().decomposeResid(null, false, Analyses.Mode.ALL, true);
        assertEquals(List.of("embed", "pos_embed", "0_attn_out", "0_mlp_out", "1_attn_out", "1_mlp_out"),
            parts.labels());
        final float[] stack = values(parts.stack());
        final float[] sum = new float[4];
        for (int c = 0; c < 6; c++) {
            for (int i = 0; i < 4; i++) {
                sum[i] += stack[c * 4 + i];
            }
        }
        // embed + pos_embed + every attn_out and mlp_out = the final resid_post [[6,8],[6,8]].
        assertArrayEquals(new float[] {6, 8, 6, 8}, sum);
        final LabeledStack attn = cache.analyses().decomposeResid(1, true, Analyses.Mode.ATTN, false);
        assertEquals(List.of("0_attn_out", "1_attn_out"), attn.labels());
        assertArrayEquals(new float[] {1, 1, 0, 2, 0, 2, 1, 1}, values(attn.stack()));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldApplyTheCachedFinalLayerNormScaleToAStack(final boolean stored) {
        final ActivationCache cache = model(stored);
        final TensorView stack = cache.analyses().accumulatedResid(null, false, false).stack();
        // LN: (x - mean over d_model) / scale of that position. 0_pre pos 0: [1,3] -> [-1,1] / 2 = [-0.5,0.5];
        // pos 1: [4,4] -> [0,0]. 1_pre: [4,4] -> [0,0]; [5,7] -> [-1,1] / 4. final_post: [6,8] -> [-1,1] / 2,
        // then / 4.
        final TensorView scaled = cache.analyses().applyLnToStack(stack, null, false);
        assertArrayEquals(new float[] {-0.5f, 0.5f, 0, 0, 0, 0, -0.25f, 0.25f, -0.5f, 0.5f, -0.25f, 0.25f},
            values(scaled));
        // RMS does not centre: x / scale.
        cache.putMetadata(CacheMetadata.NORMALIZATION_TYPE, "RMS");
        assertArrayEquals(new float[] {0.5f, 1.5f, 1, 1, 2, 2, 1.25f, 1.75f, 3, 4, 1.5f, 2},
            values(cache.analyses().applyLnToStack(stack, -1, false)));
        // No normalization: the stack itself.
        cache.putMetadata(CacheMetadata.NORMALIZATION_TYPE, "none");
        assertSame(stack, cache.analyses().applyLnToStack(stack, null, false));
        // The result streams into a new column like any view.
        cache.putMetadata(CacheMetadata.NORMALIZATION_TYPE, "LN");
        cache.put("analysis.ln_accumulated", cache.analyses().applyLnToStack(stack, null, false));
        assertEquals(-0.25f, cache.get("analysis.ln_accumulated").getFloat(10));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldNameTheLayerOrScaleKeyWhenAnAnalysisCannotRun(final boolean stored) {
        final ActivationCache cache = model(stored);
        final LayerOutOfRangeException e = assertThrows(LayerOutOfRangeException.class,
            () -> cache.analyses().accumulatedResid(3, false, false));
        assertTrue(e.getMessage().contains("layer 3") && e.getMessage().contains("n_layers is 2"), e.getMessage());
        final TensorView stack = cache.analyses().decomposeResid(1, false, Analyses.Mode.ALL, true).stack();
        final KeyNotFoundException missing = assertThrows(KeyNotFoundException.class,
            () -> cache.analyses().applyLnToStack(stack, 1, false));
        assertTrue(missing.getMessage().contains("blocks.1.ln1.hook_scale"), missing.getMessage());
    }
}
