package io.actcache.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.AlreadyClosedException;
import io.actcache.InputNotFoundException;
import io.actcache.KeyNotFoundException;
import io.actcache.format.SafetensorsWriter.NamedView;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.CraftedFiles;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the real library's files, writing files it reads the same way, and bounded lazy mapping. */
class SafetensorsFileTest {
    private static final List<Shape> SHAPES = List.of(Shape.of(), Shape.of(7), Shape.of(0, 5), Shape.of(3, 5, 7));

    @TempDir
    Path dir;

    @Test
    void shouldReadEveryFixtureAsTheManifestDescribes() throws IOException {
        final Path fixtures = CraftedFiles.fixtures().resolve("safetensors");
        final JsonNode manifest = new ObjectMapper().readTree(CraftedFiles.fixtures().resolve("manifest.json").toFile())
            .get("safetensors");
        final Set<String> files;
        try (Stream<Path> list = Files.list(fixtures)) {
            files = list.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        final Set<String> listed = new HashSet<>();
        manifest.fieldNames().forEachRemaining(listed::add);
        assertEquals(listed, files, "fixture files versus manifest entries");
        int tensors = 0;
        for (final Iterator<String> names = manifest.fieldNames(); names.hasNext(); ) {
            final String name = names.next();
            final JsonNode expected = manifest.get(name);
            try (SafetensorsFile file = SafetensorsFile.open(fixtures.resolve(name))) {
                final Set<String> expectedNames = new HashSet<>();
                expected.fieldNames().forEachRemaining(expectedNames::add);
                assertEquals(expectedNames, new HashSet<>(file.names()), name);
                for (final String tensor : file.names()) {
                    final JsonNode entry = expected.get(tensor);
                    final TensorView view = file.tensor(tensor);
                    assertEquals(CraftedFiles.fromTorchName(entry.get("dtype").asText()), view.dtype(), tensor);
                    final long[] dims = new long[entry.get("shape").size()];
                    for (int i = 0; i < dims.length; i++) {
                        dims[i] = entry.get("shape").get(i).asLong();
                    }
                    assertEquals(Shape.of(dims), view.shape(), tensor);
                    assertEquals(entry.get("sha256").asText(), CraftedFiles.sha256(view), name + " " + tensor);
                    tensors++;
                }
            }
        }
        assertEquals(22, tensors, "tensors read from the fixtures");
    }

    @Test
    void shouldExposeTheFixtureMetadataHeaderOrderAndValues() {
        try (SafetensorsFile file = SafetensorsFile.open(
            CraftedFiles.fixtures().resolve("safetensors/all_dtypes.safetensors"))) {
            assertEquals(Map.of("note", "fixture", "made_by", "safetensors.torch"), file.metadata());
            assertEquals(List.of("i64", "f64", "empty_f32", "f32", "scalar_f32", "i32", "bf16", "f16", "i16", "i8", "u8",
                "bool"), file.names());
            assertEquals(0, file.tensor("empty_f32").byteSize());
            assertEquals(Shape.of(), file.tensor("scalar_f32").shape());
            final TensorView bools = file.tensor("bool");
            for (int i = 0; i < bools.elementCount(); i++) {
                assertTrue(bools.getAsFloat(i) == 0f || bools.getAsFloat(i) == 1f, "bool value " + i);
            }
            assertEquals(0, file.header().dataOffset() % SafetensorsHeader.ALIGNMENT);
        }
    }

    @Test
    void shouldRoundTripEveryDTypeAndRankAlignedAsTheReferenceWriterAlignsThem() throws IOException {
        final List<NamedView> tensors = new ArrayList<>();
        long seed = 1;
        for (final DType dtype : DType.values()) {
            for (final Shape shape : SHAPES) {
                tensors.add(new NamedView(dtype + "/" + shape, TestData.random(dtype, shape, seed++).view()));
            }
        }
        final Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("model", "gpt2");
        metadata.put("note", "ünïcode \"quoted\"\n");
        final Path path = write(dir.resolve("all.safetensors"), metadata, tensors);
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertEquals(metadata, file.metadata());
            assertEquals(tensors.size(), file.names().size());
            for (final NamedView tensor : tensors) {
                final TensorView read = file.tensor(tensor.name());
                assertTrue(read.contentEquals(tensor.view()), tensor.name());
            }
            assertEquals(0, file.header().dataOffset() % 8, "header padded to 8 bytes");
            int previousWidth = Integer.MAX_VALUE;
            for (final SafetensorsHeader.Entry entry : file.header().entries()) {
                assertEquals(0, entry.begin() % entry.dtype().byteWidth(), entry.name() + " aligned");
                assertTrue(entry.dtype().byteWidth() <= previousWidth, "widest dtypes first");
                previousWidth = entry.dtype().byteWidth();
            }
        }
        final byte[] bytes = Files.readAllBytes(path);
        final String json = new String(bytes, 8, (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0),
            StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"__metadata__\":{\"model\":\"gpt2\""), json);
        assertTrue(json.stripTrailing().endsWith("}"), json);
        assertTrue(json.substring(json.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padded with spaces");
        assertTrue(json.length() - json.stripTrailing().length() < 8, "at most 7 bytes of padding");
    }

    @Test
    void shouldOmitEmptyMetadataAndWriteAnEmptyFileAsTheReferenceDoes() throws IOException {
        final Path path = write(dir.resolve("empty.safetensors"), Map.of(), List.of());
        // The reference implementation serializes an empty map to exactly these 16 bytes.
        assertArrayEquals(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '},
            Files.readAllBytes(path));
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertEquals(List.of(), file.names());
            assertEquals(Map.of(), file.metadata());
        }
    }

    @Test
    void shouldMapLazilyInBoundedChunksAndReadAcrossTheirBoundaries() throws IOException {
        final Tensor big = TestData.random(DType.F32, Shape.of(1000, 13), 7);
        final Tensor odd = TestData.random(DType.I8, Shape.of(1001), 8);
        final Tensor longs = TestData.random(DType.I64, Shape.of(300), 9);
        final Path path = write(dir.resolve("chunks.safetensors"), Map.of(),
            List.of(new NamedView("odd", odd.view()), new NamedView("big", big.view()),
                new NamedView("longs", longs.view())));
        try (SafetensorsFile file = SafetensorsFile.open(path, bytes -> { }, 64, 2)) {
            assertEquals(0, file.mappedChunks(), "nothing is mapped before a read");
            final TensorView view = file.tensor("big");
            for (long i = 0; i < view.elementCount(); i++) {
                assertEquals(big.view().getFloat(i), view.getFloat(i), "element " + i);
            }
            assertTrue(file.tensor("odd").contentEquals(odd.view()));
            assertTrue(file.tensor("longs").contentEquals(longs.view()));
            assertTrue(file.mappedChunks() <= 2, "live chunks " + file.mappedChunks());
        }
    }

    @Test
    void shouldKeepFilesSharingABudgetWithinItsBoundAndRereadWhatItUnmapped() throws IOException {
        final MappingBudget budget = new MappingBudget(3);
        final List<Tensor> values = new java.util.ArrayList<>();
        final List<SafetensorsFile> files = new java.util.ArrayList<>();
        try {
            for (int f = 0; f < 6; f++) {
                final Tensor a = TestData.random(DType.F32, Shape.of(10), 2L * f);
                final Tensor b = TestData.random(DType.I64, Shape.of(3), 2L * f + 1);
                values.add(a);
                values.add(b);
                files.add(SafetensorsFile.open(write(dir.resolve(f + ".safetensors"), Map.of(),
                    List.of(new NamedView("a", a.view()), new NamedView("b", b.view()))), bytes -> { }, budget));
            }
            for (int round = 0; round < 2; round++) {
                for (int f = 0; f < files.size(); f++) {
                    assertTrue(files.get(f).tensor("a").contentEquals(values.get(2 * f).view()), "file " + f);
                    assertTrue(files.get(f).tensor("b").contentEquals(values.get(2 * f + 1).view()), "file " + f);
                    assertTrue(budget.liveChunks() <= 3, "live chunks " + budget.liveChunks());
                }
            }
            assertEquals(3, files.stream().mapToInt(SafetensorsFile::mappedChunks).sum(),
                "the files' own counts agree with the budget");
        } finally {
            files.forEach(SafetensorsFile::close);
        }
        assertEquals(0, budget.liveChunks(), "closing the files releases their chunks from the budget");
    }

    @Test
    void shouldReportEveryTensorByteOnceAsViewsReadThem() throws IOException {
        final Tensor a = TestData.random(DType.F32, Shape.of(100, 10), 1);
        final Tensor b = TestData.random(DType.BF16, Shape.of(77), 2);
        final Path path = write(dir.resolve("progress.safetensors"), Map.of(),
            List.of(new NamedView("a", a.view()), new NamedView("b", b.view())));
        final long[] read = {0};
        try (SafetensorsFile file = SafetensorsFile.open(path, bytes -> read[0] += bytes, 128, 1)) {
            assertEquals(0, read[0]);
            file.tensor("a").crc32c();
            file.tensor("a").crc32c();
            assertEquals(a.byteSize(), read[0], "each byte counted once");
            file.tensor("b").crc32c();
            assertEquals(a.byteSize() + b.byteSize(), read[0]);
        }
    }

    @Test
    void shouldRefuseReadsAfterCloseAndNameMissingTensorsAndFiles() throws IOException {
        final Path path = write(dir.resolve("closed.safetensors"), Map.of(),
            List.of(new NamedView("x", TestData.random(DType.F32, Shape.of(4), 1).view())));
        final TensorView view;
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            view = file.tensor("x");
            final KeyNotFoundException missing = assertThrows(KeyNotFoundException.class, () -> file.tensor("y"));
            assertTrue(missing.getMessage().contains("closed.safetensors") && missing.getMessage().contains("'y'"),
                missing.getMessage());
        }
        final AlreadyClosedException closed = assertThrows(AlreadyClosedException.class, () -> view.getFloat(0));
        assertTrue(closed.getMessage().contains("closed.safetensors"), closed.getMessage());
        final InputNotFoundException absent = assertThrows(InputNotFoundException.class,
            () -> SafetensorsFile.open(dir.resolve("absent.safetensors")));
        assertTrue(absent.getMessage().contains("absent.safetensors"), absent.getMessage());
    }

    @Test
    void shouldParseTheWholeFileFromMemoryAsFromTheChannel() throws IOException {
        final Path path = CraftedFiles.fixtures().resolve("safetensors/batch_0.safetensors");
        final SafetensorsHeader fromMemory = SafetensorsHeader.parse(ByteBuffer.wrap(Files.readAllBytes(path)), "mem");
        final SafetensorsHeader fromFile;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            fromFile = SafetensorsHeader.read(channel, path.toString());
        }
        assertEquals(fromFile.entries(), fromMemory.entries());
        assertEquals(fromFile.metadata(), fromMemory.metadata());
        assertEquals(Files.size(path), fromMemory.fileSize());
    }

    static Path write(final Path path, final Map<String, String> metadata, final List<NamedView> tensors)
        throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            final long size = SafetensorsWriter.write(channel, metadata, tensors, bytes -> { });
            assertEquals(size, channel.size());
        }
        return path;
    }
}
