package io.actcache.cache;

import io.actcache.AlreadyClosedException;
import io.actcache.InvalidKeyException;
import io.actcache.KeyNotFoundException;
import io.actcache.LayerOutOfRangeException;
import io.actcache.UnknownShorthandException;
import io.actcache.store.ActivationStore;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.actcache.cache.CacheTestSupport.batch;
import static io.actcache.cache.CacheTestSupport.dims;
import static io.actcache.cache.CacheTestSupport.floats;
import static io.actcache.cache.CacheTestSupport.values;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationCacheTest {
    @TempDir
    Path tmp;

    @RegisterExtension
    final CacheTestSupport support = new CacheTestSupport();

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldPutGetRemoveAndListLikeADictionary(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.put("resid_out_1", floats(dims(2), 1, 2));
        cache.put("resid_out_0", floats(dims(1), 3));
        cache.putList("pattern_L0H0", List.of(floats(dims(1, 1), 1).view(), floats(dims(2, 2), 1, 0, 0, 1).view()));
        assertTrue(cache.contains("resid_out_1"));
        assertFalse(cache.contains("resid_out_9"));
        assertEquals(stored ? List.of("pattern_L0H0", "resid_out_0", "resid_out_1")
            : List.of("resid_out_1", "resid_out_0", "pattern_L0H0"), cache.keys(),
            "heap: insertion order; store: sorted");
        assertArrayEquals(new float[] {1, 2}, values(cache.get("resid_out_1")));
        assertEquals(3, cache.values().size());
        assertEquals(2, cache.items().get("pattern_L0H0").items().size());
        assertTrue(cache.remove("resid_out_1"));
        assertFalse(cache.remove("resid_out_1"));
        assertEquals(2, cache.size());
        final KeyNotFoundException e = assertThrows(KeyNotFoundException.class, () -> cache.get("resid_out_1"));
        assertTrue(e.getMessage().contains("resid_out_0"), "names the closest keys: " + e.getMessage());
    }

    @Test
    void shouldKeepAPutTensorOnTheHeapWithoutCopying() {
        final ActivationCache cache = support.cache(false);
        final Tensor tensor = floats(dims(2), 1, 2);
        cache.put("resid_out_0", tensor);
        tensor.setFloat(0, 5);
        assertEquals(5, cache.get("resid_out_0").getFloat(0), "like a Python dict, the cache holds the tensor");
    }

    @Test
    void shouldMakeANewHeapCacheWithPlusWhereTheRightSideWins() {
        final ActivationCache left = batch("resid_out_0", floats(dims(1), 1), "resid_out_1", floats(dims(1), 2));
        final ActivationCache right = batch("resid_out_1", floats(dims(1), 20), "resid_out_2", floats(dims(1), 30));
        final ActivationCache sum = left.plus(right);
        assertEquals(List.of("resid_out_0", "resid_out_1", "resid_out_2"), sum.keys());
        assertArrayEquals(new float[] {20}, values(sum.get("resid_out_1")));
        assertEquals(2, left.size(), "the operands are unchanged");
        assertTrue(sum.toString().startsWith("ActivationCache[heap, 3 keys"), sum.toString());
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldUpdateFromAMapOrACache(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.put("resid_out_0", floats(dims(1), 1));
        cache.update(Map.of("resid_out_0", floats(dims(1), 2).view(), "resid_out_1", floats(dims(1), 3).view()));
        cache.update(batch("resid_out_2", floats(dims(1), 4)));
        assertArrayEquals(new float[] {2}, values(cache.get("resid_out_0")));
        assertEquals(Set.of("resid_out_0", "resid_out_1", "resid_out_2"), Set.copyOf(cache.keys()));
    }

    @Test
    void shouldPrintAReadableSummary() {
        final ActivationCache cache = batch("resid_out_0", Tensor.allocate(DType.F32, Shape.of(4, 256)),
            "input_ids", Tensor.ofLongs(Shape.of(1, 2), 1, 2));
        assertEquals("ActivationCache[heap, 2 keys: resid_out_0=F32 [4, 256] (4.0 KiB), input_ids=I64 [1, 2] (16 B)]",
            cache.toString());
    }

    @Test
    void shouldPersistMetadataWithAStoreBackedCache() {
        final Path dir = tmp.resolve("meta");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults());
             ActivationCache cache = ActivationCache.over(store)) {
            cache.putMetadata(Map.of(CacheMetadata.MODEL_NAME, "gpt2", CacheMetadata.N_LAYERS, "12",
                CacheMetadata.N_HEADS, "12", CacheMetadata.D_MODEL, "768", CacheMetadata.D_HEAD, "64",
                CacheMetadata.NORMALIZATION_TYPE, "LN"));
            cache.putMetadata("prompt_set", "ioi-v2");
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir);
             ActivationCache cache = ActivationCache.over(store)) {
            assertEquals("gpt2", cache.metadata().get(CacheMetadata.MODEL_NAME));
            assertEquals("ioi-v2", cache.metadata().get("prompt_set"));
            assertEquals(12, cache.nLayers().getAsInt());
        }
    }

    @Test
    void shouldLookUpShorthandLikeTransformerLens() {
        final ActivationCache cache = support.cache(false);
        cache.putMetadata(CacheMetadata.N_LAYERS, "6");
        cache.put("blocks.3.hook_resid_post", floats(dims(1), 3));
        cache.put("blocks.5.hook_resid_post", floats(dims(1), 5));
        cache.put("blocks.5.attn.hook_pattern", floats(dims(1), 55));
        cache.put("blocks.2.attn.hook_k", floats(dims(1), 22));
        cache.put("blocks.4.ln1.hook_scale", floats(dims(1), 41));
        cache.put("ln_final.hook_scale", floats(dims(1), 99));
        cache.put("hook_embed", floats(dims(1), 7));
        assertEquals(3, cache.get("resid_post", 3).getFloat(0));
        assertEquals(5, cache.get("resid_post", -1).getFloat(0), "negative layers count back from n_layers");
        assertEquals(55, cache.get("pattern", 5).getFloat(0));
        assertEquals(55, cache.get("attn", -1).getFloat(0), "attn is an alias of pattern");
        assertEquals(22, cache.get("k", 2, "a").getFloat(0));
        assertEquals(22, cache.get("key", 2).getFloat(0));
        assertEquals(22, cache.get("k2").getFloat(0));
        assertEquals(41, cache.get("scale4ln1").getFloat(0));
        assertEquals(99, cache.get("scale").getFloat(0));
        assertEquals(7, cache.get("embed").getFloat(0));
    }

    @Test
    void shouldFindEasyroutineNamesByShorthand() {
        final ActivationCache cache = batch("resid_out_3", floats(dims(1), 3), "resid_in_2", floats(dims(1), 2));
        assertEquals(3, cache.get("resid_post", 3).getFloat(0));
        assertEquals(2, cache.get("resid_pre", 2).getFloat(0));
    }

    @Test
    void shouldRejectLayersOutOfRangeNamingTheLayer() {
        final ActivationCache cache = batch("blocks.0.hook_resid_post", floats(dims(1), 0));
        final LayerOutOfRangeException noLayers =
            assertThrows(LayerOutOfRangeException.class, () -> cache.get("resid_post", -1));
        assertTrue(noLayers.getMessage().contains("layer -1") && noLayers.getMessage().contains("n_layers"),
            noLayers.getMessage());
        cache.putMetadata(CacheMetadata.N_LAYERS, "2");
        final LayerOutOfRangeException high =
            assertThrows(LayerOutOfRangeException.class, () -> cache.get("resid_post", 2));
        assertTrue(high.getMessage().contains("layer 2") && high.getMessage().contains("n_layers is 2"),
            high.getMessage());
        assertThrows(LayerOutOfRangeException.class, () -> cache.get("resid_post", -3));
        assertEquals(1, cache.size(), "the cache is unchanged");
    }

    @Test
    void shouldRejectUnknownShorthandNamingEveryKeyTried() {
        final ActivationCache cache = batch("blocks.0.hook_resid_post", floats(dims(1), 0));
        final UnknownShorthandException e =
            assertThrows(UnknownShorthandException.class, () -> cache.get("resid_pre", 0));
        assertTrue(e.getMessage().contains("blocks.0.hook_resid_pre") && e.getMessage().contains("resid_in_0"),
            e.getMessage());
        final UnknownShorthandException bare = assertThrows(UnknownShorthandException.class, () -> cache.get("q7"));
        assertTrue(bare.getMessage().contains("blocks.7.attn.hook_q"), bare.getMessage());
        assertThrows(KeyNotFoundException.class, () -> cache.get("blocks.9.hook_resid_post"));
    }

    @Test
    void shouldWarnOncePerUnknownKey() {
        final ActivationCache cache = support.cache(false);
        cache.put("resid_out_12", floats(dims(1), 1));
        cache.put("pattern_L12H31", floats(dims(1), 1));
        cache.put("blocks.11.mlp.hook_post", floats(dims(1), 1));
        cache.put("my_probe", floats(dims(1), 1));
        cache.put("my_probe", floats(dims(1), 2));
        cache.put("resid_out_3x", floats(dims(1), 1));
        assertEquals(Set.of("my_probe", "resid_out_3x"), cache.unknownKeys(),
            "full-match schemes with any digits; each unknown key warned once");
        assertEquals(5, cache.size(), "unknown keys are accepted");
    }

    @Test
    void shouldLogOneWarningPerUnknownKeyHoweverManyBatchesHoldIt() {
        final java.io.PrintStream stderr = System.err;
        final java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            final ActivationCache cache = support.cache(false);
            for (int i = 0; i < 3; i++) {
                cache.cat(batch("probe_only_once", floats(dims(1), i)));
            }
            cache.put("probe_only_once", floats(dims(1), 9));
        } finally {
            System.setErr(stderr);
        }
        final String log = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(1, log.split("key 'probe_only_once' follows neither", -1).length - 1, log);
    }

    @Test
    void shouldReserveHiddenKeys() {
        final ActivationCache cache = support.cache(false);
        assertThrows(InvalidKeyException.class, () -> cache.put(".actcache/sum/x", floats(dims(1), 1)));
        assertThrows(InvalidKeyException.class, () -> cache.putMetadata(".actcache/count/x", "1"));
    }

    @ParameterizedTest(name = "stored={0}")
    @ValueSource(booleans = {false, true})
    void shouldAccountMemoryPerKeyAndPerPrefixInBinaryUnits(final boolean stored) {
        final ActivationCache cache = support.cache(stored);
        cache.put("resid_out_0", Tensor.allocate(DType.F32, Shape.of(256, 1024)));
        cache.put("resid_out_1", Tensor.allocate(DType.F32, Shape.of(256, 1024)));
        cache.putList("pattern_L0H0", List.of(Tensor.allocate(DType.F16, Shape.of(16, 16)).view(),
            Tensor.allocate(DType.F16, Shape.of(8, 8)).view()));
        assertEquals(1 << 20, cache.memorySize("resid_out_0"));
        assertEquals(2 << 20, cache.memorySizeUnder("resid_"));
        assertEquals(512 + 128, cache.memorySize("pattern_L0H0"));
        assertEquals((2 << 20) + 640, cache.memorySize());
        final String tree = cache.memoryTree().toString();
        assertTrue(tree.startsWith("total 2.0 MiB (2097792 B)"), tree);
        assertTrue(tree.contains("resid_out_  2.0 MiB (2097152 B)"), tree);
        assertTrue(tree.contains("pattern_L0H0  640 B (640 B)"), tree);
        assertEquals("1.5 KiB", MemoryTree.human(1536));
        assertEquals("1023 B", MemoryTree.human(1023));
        assertEquals("3.0 GiB", MemoryTree.human(3L << 30));
    }

    @Test
    void shouldRemoveTheBatchDimAndSliceBatchesWithoutCopying() {
        final ActivationCache cache = batch("resid_out_0", floats(dims(3, 2), 1, 2, 3, 4, 5, 6),
            "resid_out_1", floats(dims(3, 2), 7, 8, 9, 10, 11, 12), "mapping_index", Tensor.ofLongs(Shape.of(2), 0, 1));
        final ActivationCache sliced = cache.sliceBatch(1, 2);
        assertArrayEquals(new float[] {3, 4}, values(sliced.get("resid_out_0")));
        assertEquals(Shape.of(2), sliced.get("mapping_index").shape(), "values without the batch dim are kept");
        final ActivationCache single = sliced.removeBatchDim();
        assertEquals(Shape.of(2), single.get("resid_out_1").shape());
        assertArrayEquals(new float[] {9, 10}, values(single.get("resid_out_1")));
        final io.actcache.ShapeMismatchException e =
            assertThrows(io.actcache.ShapeMismatchException.class, cache::removeBatchDim);
        assertTrue(e.getMessage().contains("batch size is 3"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> cache.sliceBatch(2, 4));
    }

    @Test
    void shouldRefuseCallsAfterClose() {
        final ActivationCache cache = support.cache(false);
        cache.close();
        cache.close();
        assertThrows(AlreadyClosedException.class, () -> cache.get("resid_out_0"));
        assertThrows(AlreadyClosedException.class, () -> cache.put("resid_out_0", floats(dims(1), 1)));
    }

    @Test
    void shouldReadAViewStreamedIntoAStoreColumn() {
        final ActivationStore store = support.store();
        final ActivationCache cache = ActivationCache.over(store);
        cache.put("resid_out_0", floats(dims(2, 2), 1, 2, 3, 4));
        final TensorView reshaped = Views.reshape(cache.get("resid_out_0"), Shape.of(4));
        cache.put("flat", reshaped);
        assertArrayEquals(new float[] {1, 2, 3, 4}, values(store.get("flat")));
    }
}
