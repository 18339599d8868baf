package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 20,000 keys written and read back while the live mappings ({@code /proc/self/maps}) and open descriptors
 * ({@code /proc/self/fd}) of the store's files stay within the configured bounds: unmapping is deterministic.
 */
class ManyKeysTest {
    private static final int KEYS = 20_000;
    private static final int MAX_MAPPINGS = 32;
    private static final int MAX_FILES = 16;

    @TempDir
    Path tmp;

    @Test
    void shouldReadTwentyThousandKeysWithinTheMappingAndDescriptorBounds() throws IOException {
        final Path dir = tmp.resolve("many");
        final StoreOptions options = StoreOptions.builder().durability(Durability.NONE).expectedKeys(KEYS)
            .maxMappedChunks(MAX_MAPPINGS).maxOpenFiles(MAX_FILES).build();
        final Tensor value = Tensor.allocate(DType.F32, Shape.of(2, 16));
        int peakMappings = 0;
        int peakFiles = 0;
        try (ActivationStore store = ActivationStore.create(dir, options)) {
            for (int i = 0; i < KEYS; i++) {
                TestData.fill(value, i);
                store.append("blocks." + i + ".hook_resid_post", value);
                if (i % 500 == 0) {
                    peakFiles = Math.max(peakFiles, openDescriptorsUnder(dir));
                }
            }
        }
        try (ActivationStore store = ActivationStore.open(dir, options)) {
            assertEquals(KEYS, store.size());
            for (int i = 0; i < KEYS; i++) {
                TestData.fill(value, i);
                assertTrue(store.get("blocks." + i + ".hook_resid_post").contentEquals(value.view()), "key " + i);
                if (i % 250 == 0) {
                    peakMappings = Math.max(peakMappings, mappingsUnder(dir));
                    peakFiles = Math.max(peakFiles, openDescriptorsUnder(dir));
                }
            }
            assertTrue(store.mappedChunks() <= MAX_MAPPINGS);
        }
        assertTrue(peakMappings > 0 && peakMappings <= MAX_MAPPINGS + 1,
            "column mappings peaked at " + peakMappings + " (bound " + MAX_MAPPINGS + ", + the index)");
        // Column files, plus the journal, lock, and the index (mapped, its descriptor may stay open).
        assertTrue(peakFiles <= MAX_FILES + 4, "descriptors peaked at " + peakFiles + " (bound " + MAX_FILES + ")");
        assertEquals(0, mappingsUnder(dir), "everything unmapped after close");
        assertEquals(0, openDescriptorsUnder(dir), "everything closed after close");
    }

    private static int mappingsUnder(final Path dir) throws IOException {
        final String prefix = dir.toRealPath().toString();
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.filter(line -> line.contains(prefix)).count();
        }
    }

    private static int openDescriptorsUnder(final Path dir) throws IOException {
        final String prefix = dir.toRealPath().toString();
        int count = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (final Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith(prefix)) {
                        count++;
                    }
                } catch (final IOException e) {
                    // closed while listing
                }
            }
        }
        return count;
    }

    @Test
    void shouldGrowTheIndexToFitOneCommitOfManyMoreKeysThanItsCapacity() {
        final Path dir = tmp.resolve("small-index");
        final int keys = 2_000;
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.builder().expectedKeys(16).build());
             ActivationStore.Batch batch = store.batch()) {
            for (int i = 0; i < keys; i++) {
                batch.put("key." + i, Tensor.ofInts(Shape.of(1), i));
            }
            batch.commit();
            assertEquals(keys, store.size());
        }
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            assertEquals(keys, reopened.size());
            for (int i = 0; i < keys; i += 97) {
                assertEquals(i, reopened.get("key." + i).getInt(0), "key." + i);
            }
        }
    }

    @Test
    void shouldGrowTheIndexForKeysFarLongerThanItWasSizedFor() {
        // The index is sized for 40-byte keys; 200-byte keys filled Chronicle's segment tiers before isFull said so,
        // the index update threw after the record was in the journal, and the next commit reused its epoch: the
        // journal no longer read back ("record epoch 221 where 222 was expected").
        final Path dir = tmp.resolve("long-keys");
        final int keys = 400;
        final String prefix = "blocks.0.attn.hook_pattern." + "x".repeat(170) + ".";
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.builder().expectedKeys(100)
            .durability(Durability.NONE).build())) {
            for (int i = 0; i < keys; i++) {
                store.put(prefix + i, Tensor.ofInts(Shape.of(1), i));
            }
            assertEquals(keys, store.size());
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertEquals(keys, reader.size());
        }
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            for (int i = keys; i < 2 * keys; i++) {
                reopened.put(prefix + i, Tensor.ofInts(Shape.of(1), i));
            }
            assertEquals(2 * keys, reopened.size());
            for (int i = 0; i < 2 * keys; i += 37) {
                assertEquals(i, reopened.get(prefix + i).getInt(0), "key " + i);
            }
        }
    }

    @Test
    void shouldKeepCommittingFromTheHeapWhenGrowingTheIndexFails() {
        // Growing closed the old index before rebuilding; a failed rebuild (a full disk) left the store holding a
        // closed index, so the committed batch threw and the session was unusable.
        final Path dir = tmp.resolve("failing-growth");
        final FailingIndexRebuilds layer = new FailingIndexRebuilds();
        final int keys = 200;
        try (ActivationStore store = ActivationStore.create(dir,
            StoreOptions.builder().expectedKeys(16).fileLayer(layer).build())) {
            layer.failing = true;
            try (ActivationStore.Batch batch = store.batch()) {
                for (int i = 0; i < keys; i++) {
                    batch.put("key." + i, Tensor.ofInts(Shape.of(1), i));
                }
                batch.commit();
            }
            assertTrue(layer.refused > 0, "the rebuild was refused");
            assertEquals(keys, store.size());
            store.put("after", Tensor.ofInts(Shape.of(1), -1));
            assertEquals(-1, store.get("after").getInt(0));
            assertEquals(keys + 1, store.size());
        }
        try (ActivationStore reopened = ActivationStore.open(dir)) {
            assertEquals(keys + 1, reopened.size());
            for (int i = 0; i < keys; i += 7) {
                assertEquals(i, reopened.get("key." + i).getInt(0), "key." + i);
            }
            assertEquals(-1, reopened.get("after").getInt(0));
        }
    }

    /** The system's files, but renaming a rebuilt index into place fails while {@link #failing}. */
    private static final class FailingIndexRebuilds extends DelegatingFileLayer {
        boolean failing;
        int refused;

        @Override
        public void moveAtomically(final Path source, final Path target) throws java.io.IOException {
            if (failing && source.getFileName().toString().equals(StoreFiles.INDEX + ".rebuild")) {
                refused++;
                throw new java.io.IOException("No space left on device (injected)");
            }
            super.moveAtomically(source, target);
        }
    }
}
