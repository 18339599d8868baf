package io.actcache.format;

import io.actcache.BadFileFormatException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.CraftedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a safetensors file can be malformed, each as a real file: the exception type, and a message naming the
 * file and the tensor at fault. Also what the spec allows that a stricter reader might refuse.
 */
class SafetensorsHeaderTest {
    private static final String F32_2X3 = "{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}";

    @TempDir
    Path dir;

    @Test
    void shouldRefuseTruncatedFilesNamingTheFile() throws IOException {
        final Path empty = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        bad(empty, "truncated", "0 bytes");
        final Path five = Files.write(dir.resolve("five.safetensors"), new byte[5]);
        bad(five, "truncated", "5 bytes");
        final byte[] data = CraftedFiles.bytes(24, 1);
        final Path cut = CraftedFiles.safetensors(dir.resolve("cut.safetensors"), "{\"x\":" + F32_2X3 + "}",
            java.util.Arrays.copyOf(data, 20));
        bad(cut, "truncated", "'x'", "[0, 24]", "20 bytes");
    }

    @Test
    void shouldRefuseAHeaderLengthBeyondTheFileOrAboveTheLimit() throws IOException {
        final byte[] json = ("{\"x\":" + F32_2X3 + "}").getBytes(StandardCharsets.UTF_8);
        bad(CraftedFiles.safetensors(dir.resolve("beyond.safetensors"), 10_000, json, new byte[24]),
            "header length 10000", "extends beyond the end of the file");
        bad(CraftedFiles.safetensors(dir.resolve("huge.safetensors"), 100_000_001L, json, new byte[24]),
            "header length 100000001", "limit of 100000000");
        bad(CraftedFiles.safetensors(dir.resolve("negative.safetensors"), -1L, json, new byte[24]),
            "header length 18446744073709551615");
    }

    @Test
    void shouldRefuseInvalidJsonAndTextOutsideOneObject() throws IOException {
        bad(file("broken", "{\"x\":" + F32_2X3, 24), "not valid JSON");
        bad(file("bare", "[1, 2]", 0), "must start with '{'");
        bad(file("leadingspace", " {}", 0), "must start with '{'");
        bad(file("trailing", "{}{}", 0), "only whitespace after the header object");
        bad(file("garbage", "{} x", 0), "not valid JSON");
        bad(file("comment", "{/* c */}", 0), "not valid JSON");
        bad(file("single", "{'x': 1}", 0), "not valid JSON");
        final byte[] invalidUtf8 = {'{', '"', (byte) 0xC3, '"', ':', '1', '}'};
        bad(CraftedFiles.safetensors(dir.resolve("utf8.safetensors"), invalidUtf8.length, invalidUtf8, new byte[0]),
            "not valid UTF-8");
        bad(file("entry", "{\"x\":[1]}", 0), "'x'", "must be an object");
        bad(file("meta", "{\"__metadata__\":[1]}", 0), "__metadata__ must be an object");
        bad(file("metavalue", "{\"__metadata__\":{\"n\":12}}", 0), "'n' must be a string");
    }

    @Test
    void shouldRefuseUnknownDtypesAsBadAndSpecDtypesActcacheLacksAsUnsupportedByName() throws IOException {
        bad(file("unknown", "{\"x\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
            "'x'", "unknown dtype 'F33'");
        for (final String dtype : new String[] {"F8_E4M3", "F8_E5M2", "U16", "U32", "U64", "C64", "F8_E8M0", "F4"}) {
            final Path path = file("spec-" + dtype, "{\"x\":{\"dtype\":\"" + dtype
                + "\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2);
            final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class,
                () -> SafetensorsFile.open(path));
            assertMessage(e, path, "'x'", "dtype " + dtype, "safetensors defines but actcache does not hold");
        }
    }

    @Test
    void shouldRefuseShapesAndOffsetsThatDisagree() throws IOException {
        bad(file("mismatch", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20),
            "'x'", "F32 [2, 3] needs 24 bytes", "[0, 20] hold 20");
        bad(file("reversed", "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8),
            "'x'", "[8, 0] are out of order");
        bad(file("three", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1),
            "'x'", "data_offsets must be [begin, end]");
        bad(file("negative", "{\"x\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1),
            "'x'", "value -1 is out of range");
        bad(file("float", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}}", 1),
            "'x'", "non-negative integers");
        bad(file("bigint", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}", 1),
            "'x'", "out of range");
        bad(file("overflow", "{\"x\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
            + "\"data_offsets\":[0,8]}}", 8), "'x'", "overflows");
        bad(file("lacks", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "'x'", "lacks 'data_offsets'");
        final Path deep = file("rank9", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],"
            + "\"data_offsets\":[0,1]}}", 1);
        assertMessage(assertThrows(UnsupportedFormatException.class, () -> SafetensorsFile.open(deep)), deep,
            "'x'", "rank above 8");
    }

    @Test
    void shouldRefuseOverlapsGapsAndBytesNoTensorOwns() throws IOException {
        bad(file("overlap", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6), "'b'", "overlap tensor 'a'");
        bad(file("same", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4), "'b'", "overlap tensor 'a'");
        bad(file("gap", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}", 10), "bytes [4, 6)", "'b'");
        bad(file("late", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}", 6), "bytes [0, 2)", "'a'");
        bad(file("extended", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 9),
            "holds 9 bytes after its header", "5 bytes at the end belong to no tensor");
    }

    @Test
    void shouldRefuseDuplicateNamesWhichJsonParsersHandleInconsistently() throws IOException {
        bad(file("dup", "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            + "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2), "tensor 'x' appears twice");
        bad(file("dupmeta", "{\"__metadata__\":{},\"__metadata__\":{}}", 0), "__metadata__ appears twice");
        bad(file("dupentry", "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0), "'a' appears twice");
        bad(file("dupfield", "{\"x\":{\"dtype\":\"U8\",\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
            "'x'", "'dtype' twice");
    }

    @Test
    void shouldAcceptWhatTheSpecAllows() throws IOException {
        // Entries out of offset order (older writers sorted by name), a null __metadata__, unknown fields, no padding,
        // whitespace, empty and scalar tensors.
        final String json = "{ \"__metadata__\" : null, \"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8],"
            + "\"extra\":{\"nested\":[1,2]}},\n \"a\":{\"data_offsets\":[0,4],\"shape\":[2],\"dtype\":\"I16\"},"
            + "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,768],\"data_offsets\":[8,8]} }   \n";
        final byte[] data = CraftedFiles.bytes(8, 3);
        final Path path = CraftedFiles.safetensors(dir.resolve("lenient.safetensors"), json, data);
        final SafetensorsHeader header = SafetensorsHeader.parse(ByteBuffer.wrap(Files.readAllBytes(path)), "x");
        assertEquals(List.of("b", "a", "e"), header.entries().stream().map(SafetensorsHeader.Entry::name).toList());
        assertEquals(new SafetensorsHeader.Entry("a", DType.I16, Shape.of(2), 0, 4), header.entries().get(1));
        assertEquals(Map.of(), header.metadata());
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            assertEquals(ByteBuffer.wrap(data, 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat(),
                file.tensor("b").getFloat(0));
        }
    }

    @Test
    void shouldEncodeWhatItParsesPaddedToEightBytes() {
        final List<SafetensorsHeader.Entry> entries = new ArrayList<>();
        entries.add(new SafetensorsHeader.Entry("w", DType.F64, Shape.of(3), 0, 24));
        entries.add(new SafetensorsHeader.Entry("é/\"q\"", DType.BOOL, Shape.of(1, 5), 24, 29));
        final Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("k", "v");
        final ByteBuffer header = SafetensorsHeader.encode(metadata, entries);
        assertEquals(0, header.remaining() % 8);
        final ByteBuffer file = ByteBuffer.allocate(header.remaining() + 29).put(header).put(new byte[29]).flip();
        final SafetensorsHeader parsed = SafetensorsHeader.parse(file, "encoded");
        assertEquals(entries, parsed.entries());
        assertEquals(metadata, parsed.metadata());
        assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.encode(Map.of(),
            List.of(new SafetensorsHeader.Entry("gap", DType.U8, Shape.of(1), 1, 2))));
    }

    private Path file(final String name, final String json, final int dataBytes) throws IOException {
        return CraftedFiles.safetensors(dir.resolve(name + ".safetensors"), json, CraftedFiles.bytes(dataBytes, 9));
    }

    /** Asserts the file is refused as malformed, both from disk and from memory, naming it and each part. */
    private static void bad(final Path path, final String... parts) throws IOException {
        assertMessage(assertThrows(BadFileFormatException.class, () -> SafetensorsFile.open(path)), path, parts);
        final ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(path));
        final BadFileFormatException fromMemory = assertThrows(BadFileFormatException.class,
            () -> SafetensorsHeader.parse(bytes, "memory"));
        assertTrue(fromMemory.getMessage().startsWith("memory: "), fromMemory.getMessage());
    }

    private static void assertMessage(final Exception e, final Path path, final String... parts) {
        final String message = e.getMessage();
        assertTrue(message.startsWith(path.toString() + ": "), "names the file first: " + message);
        assertTrue(!message.contains("\n"), "one line: " + message);
        for (final String part : parts) {
            assertTrue(message.contains(part), "message should contain '" + part + "': " + message);
        }
    }
}
