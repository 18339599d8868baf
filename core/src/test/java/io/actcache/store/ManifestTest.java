package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
