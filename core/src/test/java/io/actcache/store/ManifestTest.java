package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.FuzzChecks;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Manifest#read(Path)} on hand-written JSON: inputs {@link ManifestFuzzTest} found, or that reviewing what it
 * exercises turned up (a shape must be an array of integers, not swallow the field after it).
 */
class ManifestTest {
    @TempDir
    Path tmp;

    @Test
    void shouldReadAColumnWhateverTheOrderOfItsFields() throws IOException {
        final Manifest manifest = Manifest.read(write(column("\"bytes\": 24, \"shape\": [2, 3], \"tailCrc\": 7")));
        assertEquals(ColumnDescriptor.dense(3, DType.F32, Shape.of(2, 3), 7), manifest.columns().get("resid_out_0"));
    }

    @Test
    void shouldRejectAShapeThatIsNotAnArrayNamingTheFile() throws IOException {
        // Before the fix `"shape": 4` read as a scalar and swallowed the next field name, so this manifest was
        // accepted as a DENSE scalar with tailCrc 0.
        final Path file = write(column("\"bytes\": 4, \"shape\": 4, \"tailCrc\": 7"));
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> Manifest.read(file));
        assertTrue(e.getMessage().contains("manifest " + file) && e.getMessage().contains("expected START_ARRAY"),
            e.getMessage());
    }

    @Test
    void shouldRejectAShapeHoldingSomethingOtherThanIntegers() throws IOException {
        for (final String shape : new String[] {"[2, \"3\"]", "[2, 3.5]", "[2, [3]]", "[2, null]"}) {
            final Path file = write(column("\"bytes\": 24, \"shape\": " + shape + ", \"tailCrc\": 7"));
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> Manifest.read(file), shape);
            assertTrue(e.getMessage().contains("expected END_ARRAY"), shape + ": " + e.getMessage());
        }
    }

    @Test
    void shouldRejectAVersionThatIsNotMajorMinorPatchNamingIt() throws IOException {
        // Found by fuzzing: version "." split into no parts and failed with an index out of bounds.
        for (final String version : new String[] {".", "", "1", "1.0", "1.0.0.0", "x.0.0"}) {
            final Path file = write(column("\"bytes\": 24, \"shape\": [2, 3]").replace("1.0.0", version));
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> Manifest.read(file), version);
            assertTrue(e.getMessage().contains("bad version '" + version + "'")
                && e.getMessage().contains(file.toString()), version + ": " + e.getMessage());
        }
    }

    @Test
    void shouldRejectAFieldNamedTwiceInOneObjectNamingItAndTheFile() throws IOException {
        final String once = column("\"bytes\": 24, \"shape\": [2, 3]");
        final String descriptor = once.substring(once.indexOf("{\"id\""), once.length() - 2);
        final Map<String, String> twice = Map.of(
            "epoch", once.replace("\"epoch\": 2,", "\"epoch\": 2, \"epoch\": 3,"),
            "model_name", once.replace("\"metadata\": {}", "\"metadata\": {\"model_name\": \"gpt2\", "
                + "\"model_name\": \"gpt3\"}"),
            "id", once.replace("\"id\": 3,", "\"id\": 3, \"id\": 4,"),
            // keyCount still matches: before strict reading the second descriptor silently replaced the first.
            "resid_out_0", once.replace("}}}", "}, \"resid_out_0\": " + descriptor.replace("F32", "F16") + "}}"));
        for (final Map.Entry<String, String> repeated : twice.entrySet()) {
            final Path file = write(repeated.getValue());
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> Manifest.read(file),
                repeated.getValue());
            assertTrue(e.getMessage().contains("Duplicate field '" + repeated.getKey() + "'")
                && e.getMessage().contains(file.toString()), repeated.getKey() + ": " + e.getMessage());
        }
        assertEquals(1, Manifest.read(write(once)).columns().size(), "the manifest without repeats reads");
    }

    @Test
    void shouldAllocateInProportionToTheManifestNotToItsFieldCount() throws IOException {
        // ManifestFuzzTest found manifests of a hundred short fields allocating 850 KB under Jazzer's comparison
        // tracing; without the tracer the parser must stay within the plain allowance (it measured ~11 B per byte).
        final Path dir = tmp.resolve("store");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            try (ActivationStore.Batch batch = store.batch()) {
                for (int i = 0; i < 200; i++) {
                    batch.put("k" + i, TestData.random(DType.I32, Shape.of(2), i).view());
                    batch.putMetadata("m" + i, Integer.toString(i));
                }
                batch.commit();
            }
        }
        final Path manifest = dir.resolve(StoreFiles.MANIFEST);
        final Manifest read = FuzzChecks.withinAllocation(Files.size(manifest), FuzzChecks.ALLOCATION_PER_INPUT_BYTE,
            "Manifest.read", () -> Manifest.read(manifest));
        assertEquals(200, read.columns().size());
        assertEquals(200, read.metadata().size());
    }

    private Path write(final String json) throws IOException {
        final Path file = Files.createTempFile(tmp, "manifest", ".json");
        Files.writeString(file, json);
        return file;
    }

    /** @return a manifest of one F32 DENSE column whose remaining fields are {@code fields}. */
    private static String column(final String fields) {
        return "{\"format\": \"actcache-manifest\", \"version\": \"1.0.0\", \"epoch\": 2, \"nextColumnId\": 4,"
            + " \"keyCount\": 1, \"metadata\": {}, \"columns\": {\"resid_out_0\": {\"id\": 3,"
            + " \"file\": \"columns/3.npy\", \"dataOffset\": 4096, \"kind\": \"DENSE\", \"dtype\": \"F32\","
            + " \"codec\": \"RAW\", " + fields + "}}}";
    }
}
