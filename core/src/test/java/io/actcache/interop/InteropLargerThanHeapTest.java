package io.actcache.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.cache.ActivationCache;
import io.actcache.format.SafetensorsFile;
import io.actcache.format.SafetensorsWriter;
import io.actcache.format.SafetensorsWriter.NamedView;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM with a 96 MiB heap imports 1 GiB of safetensors batch files (8 files of 4 keys x 32 MiB) into a
 * store in one commit, checks every byte, and exports the store to sharded safetensors, checking every byte of the
 * shards: both directions stream, so data ten times the heap passes through.
 */
class InteropLargerThanHeapTest {
    static final int FILES = 8;
    static final int KEYS = 4;
    static final Shape BATCH = Shape.of(8192, 1024);
    static final long SHARD_SIZE = 300_000_000L;

    @TempDir
    Path tmp;

    @Test
    void shouldImportAndExportAGibibyteWithA96MibHeap() throws Exception {
        final Path batches = Files.createDirectory(tmp.resolve("batches"));
        writeBatches(batches);
        final Path store = tmp.resolve("store");
        final Path out = tmp.resolve("export");
        final ChildJvm.Result child = ChildJvm.run(List.of("-Xmx96m"), true, 600, RoundTrip.class,
            batches.toString(), store.toString(), out.toString());
        assertEquals(0, child.exitCode(), child.describe());
        final long bytes = (long) FILES * KEYS * BATCH.byteSize(DType.F32);
        assertTrue(child.stdout().contains("imported " + FILES + " files, " + bytes + " bytes, keys verified"),
            child.describe());
        assertTrue(child.stdout().contains("exported " + KEYS + " keys, verified"), child.describe());
        final JsonNode index = new ObjectMapper().readTree(out.resolve("model.safetensors.index.json").toFile());
        assertEquals(bytes, index.get("metadata").get("total_size").asLong());
        for (int k = 0; k < KEYS; k++) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", k + 1, KEYS),
                index.get("weight_map").get(key(k)).asText(), "one 256 MiB key per 300 MB shard");
        }
    }

    static String key(final int k) {
        return "blocks." + k + ".hook_resid_post";
    }

    static long seed(final int key, final int file) {
        return key * 7_919L + file;
    }

    /** Writes the batch files from this (large-heap) JVM: {@code batch_0} ... {@code batch_7}. */
    private static void writeBatches(final Path dir) throws Exception {
        final List<Tensor> tensors = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
            tensors.add(Tensor.allocate(DType.F32, BATCH));
        }
        for (int f = 0; f < FILES; f++) {
            final List<NamedView> named = new ArrayList<>();
            for (int k = 0; k < KEYS; k++) {
                TestData.fill(tensors.get(k), seed(k, f));
                named.add(new NamedView(key(k), tensors.get(k).view()));
            }
            try (FileChannel channel = FileChannel.open(dir.resolve("batch_" + f + ".safetensors"),
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                SafetensorsWriter.write(channel, Map.of("n_layers", "4"), named, bytes -> { });
            }
        }
    }

    /** The CRC32C a key must have after the import: its batches regenerated in file order. */
    static long expectedCrc(final int key, final Tensor scratch) {
        final CRC32C crc = new CRC32C();
        for (int f = 0; f < FILES; f++) {
            TestData.fill(scratch, seed(key, f));
            crc.update(scratch.buffer());
        }
        return crc.getValue();
    }

    /** Child: imports the batch directory, verifies, exports sharded, verifies the shards against the store. */
    public static final class RoundTrip {
        public static void main(final String[] args) {
            final Path batches = Path.of(args[0]);
            final Path out = Path.of(args[2]);
            final StoreOptions options = StoreOptions.builder().durability(Durability.PROCESS).build();
            try (ActivationStore store = ActivationStore.create(Path.of(args[1]), options);
                 ActivationCache cache = ActivationCache.over(store)) {
                final ImportReport report = CacheImporter.importFiles(cache, List.of(batches), ImportOptions.defaults());
                final Tensor scratch = Tensor.allocate(DType.F32, BATCH);
                for (int k = 0; k < KEYS; k++) {
                    final TensorView column = store.get(key(k));
                    check(column.shape().equals(BATCH.withDim0(BATCH.dim(0) * FILES)), key(k) + " " + column.shape());
                    check(column.crc32c() == expectedCrc(k, scratch), key(k) + " CRC after import");
                }
                System.out.println("imported " + report.files().size() + " files, " + report.bytes()
                    + " bytes, keys verified, heap max " + Runtime.getRuntime().maxMemory());
                final ExportReport export = CacheExporter.export(store, out, ExportFormat.SAFETENSORS,
                    ExportOptions.builder().shardSize(SHARD_SIZE).build());
                check(export.files().size() == KEYS + 1, "files " + export.files());
                for (int k = 0; k < KEYS; k++) {
                    try (SafetensorsFile shard = SafetensorsFile.open(out.resolve(export.files().get(k)))) {
                        check(shard.tensor(key(k)).crc32c() == store.get(key(k)).crc32c(), key(k) + " CRC in shard");
                        check(shard.metadata().equals(Map.of("n_layers", "4", ListKeysMetadata.NAME, "[]")),
                            "metadata " + shard.metadata());
                    }
                }
                System.out.println("exported " + export.keys().size() + " keys, verified");
            }
        }

        private static void check(final boolean condition, final String what) {
            if (!condition) {
                throw new AssertionError(what);
            }
        }
    }
}
