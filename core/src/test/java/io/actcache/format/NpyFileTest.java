package io.actcache.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.BadFileFormatException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.CraftedFiles;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole NPY files: numpy's fixtures read against their manifest, our files written the way numpy writes them. */
class NpyFileTest {
    @TempDir
    Path dir;

    @Test
    void shouldReadEveryFixtureOrRefuseItNamingTheFileAndTheConversion() throws IOException {
        final Path npy = CraftedFiles.fixtures().resolve("npy");
        final JsonNode manifest = new ObjectMapper().readTree(CraftedFiles.fixtures().resolve("manifest.json").toFile())
            .get("npy");
        int read = 0;
        for (final Iterator<String> names = manifest.fieldNames(); names.hasNext(); ) {
            final String name = names.next();
            final JsonNode entry = manifest.get(name);
            final Path path = npy.resolve(name);
            if (entry.get("fortran_order").asBoolean() || entry.get("dtype").asText().startsWith(">")) {
                final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class,
                    () -> NpyFile.open(path));
                assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
                assertTrue(e.getMessage().contains("np.ascontiguousarray") || e.getMessage().contains("astype('<f4')"),
                    e.getMessage());
                continue;
            }
            try (NpyFile file = NpyFile.open(path)) {
                assertEquals(DType.fromNpyDescr(entry.get("dtype").asText()), file.tensor().dtype(), name);
                final long[] dims = new long[entry.get("shape").size()];
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = entry.get("shape").get(i).asLong();
                }
                assertEquals(Shape.of(dims), file.tensor().shape(), name);
                assertEquals(entry.get("sha256_c_order_le").asText(), CraftedFiles.sha256(file.tensor()), name);
                read++;
            }
        }
        assertEquals(4, read, "fixtures read");
    }

    @Test
    void shouldWriteTheSmallestAlignedHeaderAndReadEveryDTypeBack() throws IOException {
        long seed = 1;
        for (final DType dtype : DType.values()) {
            for (final Shape shape : List.of(Shape.of(), Shape.of(0), Shape.of(5), Shape.of(3, 4, 5))) {
                final Tensor tensor = TestData.random(dtype, shape, seed++);
                final Path path = dir.resolve(dtype + "-" + shape.rank() + "-" + shape.elementCount() + ".npy");
                final long written;
                try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                    written = NpyFile.write(tensor.view(), channel, 0, bytes -> { });
                }
                assertEquals(Files.size(path), written);
                try (NpyFile file = NpyFile.open(path, bytes -> { }, 64, 1)) {
                    final long offset = file.header().dataOffset();
                    assertEquals(0, offset % NpyHeader.ALIGNMENT, "aligned as numpy requires: " + path);
                    assertTrue(offset - NpyHeader.variablePrefixLength(dtype, shape) <= NpyHeader.ALIGNMENT,
                        "no more padding than alignment needs: " + path);
                    assertTrue(file.tensor().contentEquals(tensor.view()), path.toString());
                }
            }
        }
    }

    @Test
    void shouldRefuseTruncatedExtendedAndMalformedFilesNamingThem() throws IOException {
        final byte[] good = Files.readAllBytes(CraftedFiles.fixtures().resolve("npy/f32_v1.npy"));
        final Path cut = Files.write(dir.resolve("cut.npy"), Arrays.copyOf(good, good.length - 1));
        expectBad(cut, "truncated", "ending at " + good.length, "holds " + (good.length - 1) + " bytes");
        final Path longer = Files.write(dir.resolve("longer.npy"), Arrays.copyOf(good, good.length + 3));
        expectBad(longer, "3 bytes after the 96 data bytes");
        final byte[] magic = good.clone();
        magic[1] = 'X';
        expectBad(Files.write(dir.resolve("magic.npy"), magic), "not an NPY file");
        final Path header = Files.write(dir.resolve("header.npy"), Arrays.copyOf(good, 20));
        expectBad(header, "truncated NPY header");
        final byte[] version = good.clone();
        version[6] = 9;
        final Path newer = Files.write(dir.resolve("newer.npy"), version);
        final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, () -> NpyFile.open(newer));
        assertTrue(e.getMessage().startsWith(newer + ": ") && e.getMessage().contains("9.0"), e.getMessage());
    }

    private static void expectBad(final Path path, final String... parts) {
        final BadFileFormatException e = assertThrows(BadFileFormatException.class, () -> NpyFile.open(path));
        assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
        for (final String part : parts) {
            assertTrue(e.getMessage().contains(part), "message should contain '" + part + "': " + e.getMessage());
        }
    }
}
