package io.actcache.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.DType;
import io.actcache.tensor.HalfFloats;
import io.actcache.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class NpyHeaderTest {
    private static final int PAGE = 4096;
    private static final List<Shape> SHAPES = List.of(
        Shape.of(), Shape.of(5), Shape.of(0), Shape.of(3, 0), Shape.of(0, 768), Shape.of(2, 3, 4),
        Shape.of(8, 128, 768), Shape.of(1, 2, 3, 4), Shape.of(2, 0, 3, 4), Shape.of(1L << 40),
        Shape.of(1, 1, 1, 1, 1, 1, 1, Integer.MAX_VALUE));

    @TempDir
    Path dir;

    @Test
    void shouldRoundTripEveryDTypeAndRank() {
        for (final DType dtype : DType.values()) {
            for (final Shape shape : SHAPES) {
                final ByteBuffer encoded = NpyHeader.encodePadded(dtype, shape, PAGE);
                final NpyHeader header = NpyHeader.parse(encoded, "round-trip.npy");
                assertEquals(dtype, header.dtype(), () -> dtype + " " + shape);
                assertEquals(shape, header.shape(), () -> dtype + " " + shape);
                assertEquals(PAGE, header.dataOffset());
                assertEquals(1, header.majorVersion());
                assertFalse(header.fortranOrder());
                assertEquals(shape.byteSize(dtype), header.dataByteSize());
            }
        }
    }

    @Test
    void shouldEncodeExactlyTheRequestedPageAlignedSize() {
        for (final int size : new int[] {256, 1024, PAGE, 65536}) {
            final ByteBuffer encoded = NpyHeader.encodePadded(DType.F32, Shape.of(8, 128, 768), size);
            assertEquals(0, encoded.position());
            assertEquals(size, encoded.remaining());
            assertEquals(0, size % NpyHeader.ALIGNMENT);
            assertEquals(size - NpyHeader.V1_TEXT_OFFSET, encoded.order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xFFFF);
            assertEquals('\n', encoded.get(size - 1));
            final String text = text(encoded);
            assertTrue(text.substring(text.indexOf('}') + 1, size - 1).isBlank(), "padding must be spaces");
        }
    }

    @Test
    void shouldWriteTheDictTextNumpyWrites() {
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 128, 768), }",
            dict(DType.F32, Shape.of(8, 128, 768)));
        assertEquals("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", dict(DType.I64, Shape.of(5)));
        assertEquals("{'descr': '<f2', 'fortran_order': False, 'shape': (), }", dict(DType.F16, Shape.of()));
        assertEquals("{'descr': '<u2', 'fortran_order': False, 'shape': (0, 768), }",
            dict(DType.BF16, Shape.of(0, 768)));
        assertEquals("{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }", dict(DType.BOOL, Shape.of(2, 3)));
    }

    @Test
    void shouldRefuseSizesThatAreNotMultiplesOf64OrDoNotFit() {
        final Shape shape = Shape.of(2, 3);
        final IllegalArgumentException unaligned =
            assertThrows(IllegalArgumentException.class, () -> NpyHeader.encodePadded(DType.F32, shape, 4000));
        assertTrue(unaligned.getMessage().contains("4000"), unaligned.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NpyHeader.encodePadded(DType.F32, shape, 0));
        assertThrows(IllegalArgumentException.class, () -> NpyHeader.encodePadded(DType.F32, shape, -64));
        final IllegalArgumentException tooSmall =
            assertThrows(IllegalArgumentException.class, () -> NpyHeader.encodePadded(DType.F32, shape, 64));
        assertTrue(tooSmall.getMessage().contains("needs"), tooSmall.getMessage());
        final IllegalArgumentException tooLarge =
            assertThrows(IllegalArgumentException.class, () -> NpyHeader.encodePadded(DType.F32, shape, 65536 + 64));
        assertTrue(tooLarge.getMessage().contains("65535"), tooLarge.getMessage());
    }

    @Test
    void shouldRewriteOnlyTheVariablePrefixWhenDim0Grows() {
        final ByteBuffer onDisk = NpyHeader.encodePadded(DType.BF16, Shape.of(1, 768), PAGE);
        long rows = 1;
        while (rows < 10_000_000_000L) {
            rows = rows * 7 + 3;
            final Shape grown = Shape.of(rows, 768);
            final ByteBuffer fresh = NpyHeader.encodePadded(DType.BF16, grown, PAGE);
            final int prefix = NpyHeader.variablePrefixLength(DType.BF16, grown);
            assertTrue(prefix < PAGE, "prefix " + prefix);
            assertEquals('}', fresh.get(prefix - 1));
            onDisk.put(0, fresh, 0, prefix);
            assertEquals(fresh, onDisk, "header after rewriting " + prefix + " bytes for " + grown);
            assertEquals(grown, NpyHeader.parse(onDisk, "grown.npy").shape());
        }
    }

    @Test
    void shouldReadEveryFixtureAsTheManifestDescribes() throws IOException {
        final Path npyDir = fixtures().resolve("npy");
        final JsonNode manifest = new ObjectMapper().readTree(fixtures().resolve("manifest.json").toFile()).get("npy");
        final Set<String> files;
        try (Stream<Path> list = Files.list(npyDir)) {
            files = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".npy"))
                .collect(Collectors.toSet());
        }
        final Set<String> listed = new HashSet<>();
        manifest.fieldNames().forEachRemaining(listed::add);
        assertEquals(listed, files, "fixture files versus manifest.json entries");
        int accepted = 0;
        for (final Iterator<String> names = manifest.fieldNames(); names.hasNext(); ) {
            final String name = names.next();
            final JsonNode entry = manifest.get(name);
            final String descr = entry.get("dtype").asText();
            final Path file = npyDir.resolve(name);
            if (entry.get("fortran_order").asBoolean() || descr.startsWith(">")) {
                final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class, () -> read(file));
                assertTrue(e.getMessage().contains(name), e.getMessage());
                continue;
            }
            final NpyHeader header = read(file);
            assertEquals(DType.fromNpyDescr(descr), header.dtype(), name);
            assertEquals(Shape.of(longs(entry.get("shape"))), header.shape(), name);
            final byte[] bytes = Files.readAllBytes(file);
            assertEquals(bytes.length - header.dataByteSize(), header.dataOffset(), name + " data offset");
            assertEquals(0, header.dataOffset() % NpyHeader.ALIGNMENT, name);
            final byte[] data = Arrays.copyOfRange(bytes, (int) header.dataOffset(), bytes.length);
            assertEquals(entry.get("sha256_c_order_le").asText(), sha256(data), name + " data sha256");
            if (entry.has("values")) {
                assertArrayEquals(expectedValues(entry.get("values"), header.dtype()), data, name + " values");
            }
            accepted++;
        }
        assertEquals(4, accepted, "fixtures read");
    }

    @Test
    void shouldParseVersion1And2Fixtures() throws IOException {
        final NpyHeader v1 = read(fixtures().resolve("npy/f32_v1.npy"));
        final NpyHeader v2 = read(fixtures().resolve("npy/f32_v2.npy"));
        assertEquals(1, v1.majorVersion());
        assertEquals(2, v2.majorVersion());
        assertEquals(v1.dtype(), v2.dtype());
        assertEquals(v1.shape(), v2.shape());
        assertEquals(128, v2.dataOffset());
        final NpyHeader f16 = read(fixtures().resolve("npy/f16.npy"));
        assertEquals(DType.F16, f16.dtype());
        final NpyHeader i64 = read(fixtures().resolve("npy/i64.npy"));
        assertEquals(Shape.of(10), i64.shape());
    }

    @Test
    void shouldRefuseFortranOrderFixtureNamingTheFile() {
        final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class,
            () -> read(fixtures().resolve("npy/f32_fortran.npy")));
        assertEquals("f32_fortran.npy: Fortran-order arrays are not supported; save with np.ascontiguousarray",
            e.getMessage());
    }

    @Test
    void shouldRefuseBigEndianFixtureNamingTheFileAndConversion() {
        final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class,
            () -> read(fixtures().resolve("npy/f32_bigendian.npy")));
        assertEquals("f32_bigendian.npy: big-endian dtype '>f4' is not supported; convert with arr.astype('<f4')",
            e.getMessage());
    }

    @Test
    void shouldRefuseUnsupportedDTypesNamingTheDescr() {
        for (final String descr : new String[] {"<U5", "|O", "<c8", "<u4", "=f4", "|S3", ">U5"}) {
            final UnsupportedFormatException e = assertThrows(UnsupportedFormatException.class,
                () -> parseDict("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (3,), }"));
            assertTrue(e.getMessage().contains("'" + descr + "'") && e.getMessage().contains("x.npy"), e.getMessage());
        }
        final UnsupportedFormatException structured = assertThrows(UnsupportedFormatException.class,
            () -> parseDict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }"));
        assertTrue(structured.getMessage().contains("structured"), structured.getMessage());
    }

    @Test
    void shouldAcceptWhatNumpyMayWrite() {
        assertEquals(Shape.of(2, 3), parseDict("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}").shape());
        assertEquals(Shape.of(2, 3), parseDict("{'descr':'<f4','fortran_order':False,'shape':(2,3,),}\n").shape());
        assertEquals(Shape.of(7),
            parseDict("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (7L,)}").shape());
        assertEquals(DType.I8, parseDict("{'descr': '<i1', 'fortran_order': False, 'shape': (), }").dtype());
        assertEquals(DType.U8, parseDict("{'descr': '>u1', 'fortran_order': False, 'shape': (), }").dtype());
        assertEquals(DType.BOOL, parseDict("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }").dtype());
    }

    @Test
    void shouldRejectWrongMagic() {
        final ByteBuffer header = NpyHeader.encodePadded(DType.F32, Shape.of(2), 128);
        header.put(1, (byte) 'n');
        final CorruptFileException e =
            assertThrows(CorruptFileException.class, () -> NpyHeader.parse(header, "magic.npy"));
        assertTrue(e.getMessage().startsWith("magic.npy: not an NPY file"), e.getMessage());
        assertTrue(e.getMessage().contains("93 4E 55 4D 50 59") && e.getMessage().contains("93 6E 55 4D 50 59"),
            e.getMessage());
    }

    @Test
    void shouldRejectHeaderTruncatedByOneByte() throws IOException {
        final ByteBuffer header = NpyHeader.encodePadded(DType.F32, Shape.of(2, 3), 128);
        final ByteBuffer cut = header.duplicate().limit(127);
        final CorruptFileException parsed =
            assertThrows(CorruptFileException.class, () -> NpyHeader.parse(cut, "cut.npy"));
        assertTrue(parsed.getMessage().contains("cut.npy: truncated") && parsed.getMessage().contains("127"),
            parsed.getMessage());
        final Path file = dir.resolve("cut.npy");
        Files.write(file, Arrays.copyOf(header.array(), 127));
        final CorruptFileException read = assertThrows(CorruptFileException.class, () -> read(file));
        assertTrue(read.getMessage().contains("cut.npy: truncated"), read.getMessage());
        for (final int length : new int[] {0, 5, 9}) {
            final ByteBuffer stub = header.duplicate().limit(length);
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> NpyHeader.parse(stub, "s"));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void shouldRejectAHeaderLengthTheFileDoesNotBackWithoutAllocatingIt() throws IOException {
        // A 100-byte v2.0 file whose u32 HEADER_LEN claims 4 GiB, then just under the 1 MiB plausibility cap.
        for (final long claimed : new long[] {0xFFFF_FFF0L, (1 << 20) - NpyHeader.V2_TEXT_OFFSET}) {
            final ByteBuffer bytes = ByteBuffer.allocate(100).order(ByteOrder.LITTLE_ENDIAN);
            bytes.put(NpyHeader.encodePadded(DType.F32, Shape.of(2), 128).array(), 0, NpyHeader.HEADER_LENGTH_OFFSET);
            bytes.put(NpyHeader.MAJOR_VERSION_OFFSET, (byte) 2).putInt(NpyHeader.HEADER_LENGTH_OFFSET, (int) claimed);
            final Path file = dir.resolve("claims-" + claimed + ".npy");
            Files.write(file, bytes.array());
            assertThrows(CorruptFileException.class, () -> read(file)); // warm: classes and message formatting
            final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            final long before = threads.getCurrentThreadAllocatedBytes();
            final CorruptFileException read = assertThrows(CorruptFileException.class, () -> read(file));
            final CorruptFileException parsed =
                assertThrows(CorruptFileException.class, () -> NpyHeader.parse(bytes.duplicate().clear(), "p.npy"));
            final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 64 << 10, "rejecting a 100-byte file claiming HEADER_LEN " + claimed
                + " allocated " + allocated + " bytes");
            assertTrue(read.getMessage().contains(String.valueOf(claimed)), read.getMessage());
            assertTrue(parsed.getMessage().contains(String.valueOf(claimed)), parsed.getMessage());
        }
    }

    @Test
    void shouldRejectTooNewVersion() {
        final ByteBuffer header = NpyHeader.encodePadded(DType.F32, Shape.of(2), 128);
        header.put(NpyHeader.MAJOR_VERSION_OFFSET, (byte) 9);
        final FormatTooNewException e =
            assertThrows(FormatTooNewException.class, () -> NpyHeader.parse(header, "new.npy"));
        assertTrue(e.getMessage().contains("new.npy") && e.getMessage().contains("9.0"), e.getMessage());
        header.put(NpyHeader.MAJOR_VERSION_OFFSET, (byte) 1).put(NpyHeader.MINOR_VERSION_OFFSET, (byte) 1);
        assertThrows(FormatTooNewException.class, () -> NpyHeader.parse(header, "minor.npy"));
        header.put(NpyHeader.MAJOR_VERSION_OFFSET, (byte) 0).put(NpyHeader.MINOR_VERSION_OFFSET, (byte) 0);
        final CorruptFileException zero =
            assertThrows(CorruptFileException.class, () -> NpyHeader.parse(header, "zero.npy"));
        assertFalse(zero instanceof FormatTooNewException);
    }

    @Test
    void shouldParseVersion3Utf8Header() {
        final String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }   \n";
        final NpyHeader header = NpyHeader.parse(versioned(3, dict), "v3.npy");
        assertEquals(3, header.majorVersion());
        assertEquals(DType.F64, header.dtype());
        assertEquals(Shape.of(4, 2), header.shape());
        assertEquals(NpyHeader.V2_TEXT_OFFSET + dict.length(), header.dataOffset());
        final ByteBuffer invalid = versioned(3, dict);
        invalid.put(invalid.limit() - 1, (byte) 0xC3);
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> NpyHeader.parse(invalid, "u"));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void shouldRejectMalformedDicts() {
        final String[][] cases = {
            {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,), }", "expected ':'"},
            {"{'descr': '<f4', 'fortran_order': false, 'shape': (2,), }", "expected True or False"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", "1-tuple"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, }", "expected a non-negative"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", "expected a non-negative"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (02,), }", "leading zeros"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", "fits a long"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", "expected '('"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "found 'extra'"},
            {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "appears twice"},
            {"{'descr': '<f4', 'fortran_order': False}", "missing 'shape'"},
            {"{'descr': '<f4 , 'fortran_order': False, 'shape': (2,)}",
                "offset 28 (character 18 of the dict): expected ',' or '}'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "after '}'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,) 'x'}", "expected ',' or '}'"},
            {"'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "expected '{'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "the end of the text"},
            {"{'descr': '<\\f4', 'fortran_order': False, 'shape': (2,)}", "without escapes"},
            {"", "expected '{'"},
        };
        for (final String[] c : cases) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> parseDict(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith("x.npy: malformed NPY header dict at offset "), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), () -> "'" + c[1] + "' in " + e.getMessage());
        }
    }

    @Test
    void shouldRejectShapesActcacheCannotHold() {
        final UnsupportedFormatException rank = assertThrows(UnsupportedFormatException.class,
            () -> parseDict("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }"));
        assertTrue(rank.getMessage().contains("rank 9"), rank.getMessage());
        final CorruptFileException overflow = assertThrows(CorruptFileException.class,
            () -> parseDict("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }"));
        assertTrue(overflow.getMessage().contains("4611686018427387904"), overflow.getMessage());
    }

    @Test
    void shouldLeaveTheBufferPositionAndTheChannelPositionAlone() throws IOException {
        final ByteBuffer buffer = ByteBuffer.allocate(200).order(ByteOrder.BIG_ENDIAN);
        buffer.position(8).put(NpyHeader.encodePadded(DType.I16, Shape.of(3), 128)).position(8);
        final NpyHeader header = NpyHeader.parse(buffer, "offset.npy");
        assertEquals(Shape.of(3), header.shape());
        assertEquals(8, buffer.position());
        assertEquals(ByteOrder.BIG_ENDIAN, buffer.order());
        final Path file = dir.resolve("pos.npy");
        Files.write(file, NpyHeader.encodePadded(DType.I16, Shape.of(3), 128).array());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.position(17);
            assertEquals(DType.I16, NpyHeader.read(ch, file.toString()).dtype());
            assertEquals(17, ch.position());
        }
    }

    @Test
    void shouldWriteHeadersNumpyLoads() throws IOException, InterruptedException {
        requireNumpy();
        final Shape shape = Shape.of(8, 16, 4);
        final int n = (int) shape.elementCount();
        final ByteBuffer f32 = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer bf16 = ByteBuffer.allocate(n * 2).order(ByteOrder.LITTLE_ENDIAN);
        double f32Sum = 0;
        double bf16Sum = 0;
        for (int i = 0; i < n; i++) {
            f32.putFloat(i * 0.5f);
            f32Sum += i * 0.5;
            bf16.putShort(HalfFloats.floatToBf16((i % 64) - 32.25f));
            bf16Sum += (i % 64) - 32.25;
        }
        final Path f32File = writeNpy("f32.npy", DType.F32, shape, f32.flip());
        final Path bf16File = writeNpy("bf16.npy", DType.BF16, shape, bf16.flip());
        final String script = "import numpy as np, sys\n"
            + "a = np.load(sys.argv[1], mmap_mode='r')\n"
            + "print(a.shape, a.dtype, repr(float(a.astype(np.float64).sum())))\n"
            + "b = np.load(sys.argv[2], mmap_mode='r')\n"
            + "v = (b.astype(np.uint32) << 16).view(np.float32)\n"
            + "print(b.shape, b.dtype, repr(float(v.astype(np.float64).sum())))\n";
        final String out = python(script, f32File.toString(), bf16File.toString());
        assertEquals("(8, 16, 4) float32 " + f32Sum + "\n(8, 16, 4) uint16 " + bf16Sum + "\n", out);
    }

    private Path writeNpy(final String name, final DType dtype, final Shape shape, final ByteBuffer data)
        throws IOException {
        final Path file = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            final ByteBuffer header = NpyHeader.encodePadded(dtype, shape, PAGE);
            while (header.hasRemaining()) {
                ch.write(header);
            }
            while (data.hasRemaining()) {
                ch.write(data);
            }
        }
        return file;
    }

    private static void requireNumpy() throws IOException, InterruptedException {
        final int rc;
        try {
            final Process process = new ProcessBuilder("python3", "-c", "import numpy").inheritIO().start();
            rc = process.waitFor(60, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (final IOException e) {
            fail("python3 is not runnable (" + e.getMessage() + "); this interop test needs python3 with numpy, "
                + "which CI machines have: install it (pip install numpy)");
            return;
        }
        if (rc != 0) {
            fail("python3 -c 'import numpy' exited with " + rc + "; this interop test needs numpy, which CI machines "
                + "have: install it (pip install numpy)");
        }
    }

    private static String python(final String script, final String... args) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>(List.of("python3", "-c", script));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out;
        try (InputStream in = process.getInputStream()) {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            out = bytes.toString(StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "python3 did not finish");
        assertEquals(0, process.exitValue(), () -> "python3 failed:\n" + out);
        return out;
    }

    /**
     * Locates the shared fixtures: system property {@code actcache.fixtures}, else {@code shared/fixtures} or
     * {@code ../shared/fixtures} seen from the working directory or any parent. Fails rather than skips.
     */
    static Path fixtures() {
        final String property = System.getProperty("actcache.fixtures");
        if (property != null) {
            final Path path = Paths.get(property);
            assertTrue(Files.isDirectory(path), "actcache.fixtures=" + property + " is not a directory");
            return path;
        }
        final Path cwd = Paths.get("").toAbsolutePath();
        for (Path dir = cwd; dir != null; dir = dir.getParent()) {
            for (final Path candidate : List.of(dir.resolve("shared/fixtures"), dir.resolve("../shared/fixtures"))) {
                if (Files.isRegularFile(candidate.resolve("manifest.json"))) {
                    return candidate.normalize();
                }
            }
        }
        return fail("fixtures not found: set -Dactcache.fixtures or provide shared/fixtures above " + cwd);
    }

    private static NpyHeader read(final Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return NpyHeader.read(ch, file.getFileName().toString());
        }
    }

    private static NpyHeader parseDict(final String dict) {
        return NpyHeader.parse(versioned(1, dict), "x.npy");
    }

    /** A header of the given major version around {@code dict}, with no padding added. */
    private static ByteBuffer versioned(final int major, final String dict) {
        final byte[] text = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        final int textOffset = major == 1 ? NpyHeader.V1_TEXT_OFFSET : NpyHeader.V2_TEXT_OFFSET;
        final ByteBuffer out = ByteBuffer.allocate(textOffset + text.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            out.putShort((short) text.length);
        } else {
            out.putInt(text.length);
        }
        return out.put(text).flip();
    }

    private static String dict(final DType dtype, final Shape shape) {
        final ByteBuffer encoded = NpyHeader.encodePadded(dtype, shape, PAGE);
        final String text = text(encoded);
        final int end = NpyHeader.variablePrefixLength(dtype, shape);
        assertTrue(text.substring(end).isBlank());
        return text.substring(NpyHeader.V1_TEXT_OFFSET, end);
    }

    private static String text(final ByteBuffer encoded) {
        final byte[] bytes = new byte[encoded.remaining()];
        encoded.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static long[] longs(final JsonNode array) {
        final long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asLong();
        }
        return values;
    }

    private static byte[] expectedValues(final JsonNode values, final DType dtype) {
        final ByteBuffer out = ByteBuffer.allocate(values.size() * dtype.byteWidth()).order(ByteOrder.LITTLE_ENDIAN);
        for (final JsonNode value : values) {
            switch (dtype) {
                case F32: out.putFloat((float) value.asDouble()); break;
                case F64: out.putDouble(value.asDouble()); break;
                case F16: out.putShort(HalfFloats.floatToF16((float) value.asDouble())); break;
                case BF16: out.putShort(HalfFloats.floatToBf16((float) value.asDouble())); break;
                case I64: out.putLong(value.asLong()); break;
                case I32: out.putInt(value.asInt()); break;
                case I16: out.putShort((short) value.asInt()); break;
                default: out.put((byte) (value.isBoolean() ? (value.asBoolean() ? 1 : 0) : value.asInt())); break;
            }
        }
        return out.array();
    }

    private static String sha256(final byte[] data) {
        try {
            final StringBuilder hex = new StringBuilder();
            for (final byte b : MessageDigest.getInstance("SHA-256").digest(data)) {
                hex.append(String.format("%02x", b & 0xFF));
            }
            return hex.toString();
        } catch (final NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
