package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.format.NpyHeader;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;
import io.actcache.testing.ChildJvm;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Damages each file of a committed store (a column's data, its NPY header, its checksums, the journal, the manifest,
 * the Chronicle index) in each way (one flipped bit, one byte cut off the end, garbage appended), after a clean close
 * and after a writer killed mid-session, then opens it as a reader and as a writer and verifies it. Every case ends
 * in the outcome {@link #EXPECTED} names: a {@link CorruptFileException} naming the file (and key and block where
 * there is one), a repair on open, the documented loss of a torn last record, or harmlessness; and whenever a store
 * opens, every value it serves is compared with what was written. The table is {@code docs/FORMAT.md}'s
 * "Corruption matrix".
 */
class CorruptionMatrixTest {
    private static final int BLOCK = 4096;
    private static final long CLEAN_STEPS = 140;
    private static final long UNCLEAN_STEPS = 6;
    private static final StoreOptions OPTIONS = StoreOptions.builder().checksumBlockSize(BLOCK)
        .checkpointJournalBytes(1 << 20).build();

    /** The file damaged. */
    enum Kind { COLUMN_DATA, NPY_HEADER, CHECKSUMS, JOURNAL, MANIFEST, INDEX }

    /** How it is damaged. */
    enum Damage { FLIP_BIT, TRUNCATE_ONE_BYTE, APPEND_GARBAGE }

    /** How the last writer left the store. */
    enum Shutdown { CLEAN, UNCLEAN }

    /** What opening and verifying the damaged store does. */
    enum Outcome {
        /** Opens, verifies, serves every original value; the damage stays, unread (bytes past a committed end). */
        HARMLESS,
        /** The writer's open repairs it (cuts garbage, rewrites the header, rebuilds the index) and logs it. */
        REPAIRED,
        /** Open throws {@link CorruptFileException} naming the file, and leaves the damaged file as it was. */
        FAILS_OPEN,
        /** Open succeeds (it checks only cheap things); {@code verify()} throws naming the file and key. */
        FAILS_VERIFY,
        /** A damaged last journal record is a torn tail: dropped with a warning, the store opens one commit back. */
        LAST_COMMIT_DROPPED
    }

    /** Expected outcomes for a reader ({@code openReadOnly}) and a writer ({@code open}), and message fragments. */
    record Expect(Outcome reader, Outcome writer, String... message) {
    }

    static final Map<Kind, Map<Damage, Map<Shutdown, Expect>>> EXPECTED = new EnumMap<>(Kind.class);

    static {
        // Column data: complete blocks are checked against the .crc file, the last partial one against the tail CRC.
        expect(Kind.COLUMN_DATA, Damage.FLIP_BIT, Shutdown.CLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "block 1", "fails its CRC32C");
        expect(Kind.COLUMN_DATA, Damage.FLIP_BIT, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "block 1", "fails its CRC32C");
        expect(Kind.COLUMN_DATA, Damage.TRUNCATE_ONE_BYTE, Shutdown.CLEAN, Outcome.FAILS_VERIFY,
            Outcome.FAILS_VERIFY, "truncated");
        expect(Kind.COLUMN_DATA, Damage.TRUNCATE_ONE_BYTE, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY,
            Outcome.FAILS_OPEN, "holds", "committed");
        expect(Kind.COLUMN_DATA, Damage.APPEND_GARBAGE, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.HARMLESS);
        expect(Kind.COLUMN_DATA, Damage.APPEND_GARBAGE, Shutdown.UNCLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        // NPY header: verify() compares it with the descriptor; after an unclean shutdown recovery rewrites every
        // header that differs from its descriptor.
        expect(Kind.NPY_HEADER, Damage.FLIP_BIT, Shutdown.CLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "NPY header");
        expect(Kind.NPY_HEADER, Damage.FLIP_BIT, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.REPAIRED,
            "NPY header");
        expect(Kind.NPY_HEADER, Damage.TRUNCATE_ONE_BYTE, Shutdown.CLEAN, Outcome.FAILS_VERIFY,
            Outcome.FAILS_VERIFY, "NPY header");
        expect(Kind.NPY_HEADER, Damage.TRUNCATE_ONE_BYTE, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.REPAIRED,
            "NPY header");
        expect(Kind.NPY_HEADER, Damage.APPEND_GARBAGE, Shutdown.CLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "NPY header");
        expect(Kind.NPY_HEADER, Damage.APPEND_GARBAGE, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.REPAIRED,
            "NPY header");
        // Checksums: a damaged entry fails its block; a short file is reported; bytes past the committed blocks are
        // an uncommitted append.
        expect(Kind.CHECKSUMS, Damage.FLIP_BIT, Shutdown.CLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "block 0", "fails its CRC32C");
        expect(Kind.CHECKSUMS, Damage.FLIP_BIT, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "block 0", "fails its CRC32C");
        expect(Kind.CHECKSUMS, Damage.TRUNCATE_ONE_BYTE, Shutdown.CLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_VERIFY,
            "truncated");
        expect(Kind.CHECKSUMS, Damage.TRUNCATE_ONE_BYTE, Shutdown.UNCLEAN, Outcome.FAILS_VERIFY, Outcome.FAILS_OPEN,
            "holds");
        expect(Kind.CHECKSUMS, Damage.APPEND_GARBAGE, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.HARMLESS);
        expect(Kind.CHECKSUMS, Damage.APPEND_GARBAGE, Shutdown.UNCLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        // Journal: after a clean close it is only its 32-byte header; after an unclean one it holds records.
        expect(Kind.JOURNAL, Damage.FLIP_BIT, Shutdown.CLEAN, Outcome.FAILS_OPEN, Outcome.FAILS_OPEN,
            "file header CRC32C");
        expect(Kind.JOURNAL, Damage.FLIP_BIT, Shutdown.UNCLEAN, Outcome.FAILS_OPEN, Outcome.FAILS_OPEN,
            "is damaged but a valid record of epoch");
        expect(Kind.JOURNAL, Damage.TRUNCATE_ONE_BYTE, Shutdown.CLEAN, Outcome.FAILS_OPEN, Outcome.FAILS_OPEN,
            "file header truncated");
        expect(Kind.JOURNAL, Damage.TRUNCATE_ONE_BYTE, Shutdown.UNCLEAN, Outcome.LAST_COMMIT_DROPPED,
            Outcome.LAST_COMMIT_DROPPED);
        expect(Kind.JOURNAL, Damage.APPEND_GARBAGE, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        expect(Kind.JOURNAL, Damage.APPEND_GARBAGE, Shutdown.UNCLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        // Manifest: the truth, with a CRC32C trailer; any damage refuses to open.
        for (final Damage damage : Damage.values()) {
            for (final Shutdown shutdown : Shutdown.values()) {
                expect(Kind.MANIFEST, damage, shutdown, Outcome.FAILS_OPEN, Outcome.FAILS_OPEN, "manifest");
            }
        }
        // Index: readers never open it; the writer checks every entry on open and rebuilds it from the truth when
        // that fails, and always after an unclean shutdown. Chronicle ignores bytes past its extent, and the last
        // byte of the file is in its unused space.
        expect(Kind.INDEX, Damage.FLIP_BIT, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        expect(Kind.INDEX, Damage.TRUNCATE_ONE_BYTE, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.HARMLESS);
        expect(Kind.INDEX, Damage.APPEND_GARBAGE, Shutdown.CLEAN, Outcome.HARMLESS, Outcome.HARMLESS);
        for (final Damage damage : Damage.values()) {
            expect(Kind.INDEX, damage, Shutdown.UNCLEAN, Outcome.HARMLESS, Outcome.REPAIRED);
        }
    }

    @TempDir
    static Path templates;

    @TempDir
    Path tmp;

    /** The pseudo-key under which {@link #values} keeps the store's metadata. */
    private static final String METADATA = "\u0000metadata";

    private static Path cleanTemplate;
    private static Path uncleanTemplate;
    private static Map<Shutdown, Map<String, Value>> originals;
    private static Map<Shutdown, String> targets;

    private static void expect(final Kind kind, final Damage damage, final Shutdown shutdown, final Outcome reader,
        final Outcome writer, final String... message) {
        EXPECTED.computeIfAbsent(kind, k -> new EnumMap<>(Damage.class))
            .computeIfAbsent(damage, d -> new EnumMap<>(Shutdown.class))
            .put(shutdown, new Expect(reader, writer, message));
    }

    /** Builds the two templates: closed cleanly, and left by a child JVM that halted mid-session. */
    @BeforeAll
    static void buildTemplates() throws Exception {
        cleanTemplate = templates.resolve("clean");
        try (ActivationStore store = ActivationStore.create(cleanTemplate, OPTIONS)) {
            for (long step = 1; step <= CLEAN_STEPS; step++) {
                Workload.commit(store, step);
            }
        }
        uncleanTemplate = templates.resolve("unclean");
        copyTree(cleanTemplate, uncleanTemplate);
        final ChildJvm.Result result = ChildJvm.run(List.of("-Xmx128m"), true, 120, HaltingWriter.class,
            uncleanTemplate.toString(), Long.toString(CLEAN_STEPS + UNCLEAN_STEPS));
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(Files.exists(uncleanTemplate.resolve(StoreFiles.LOCK_PID)), "the child left lock.pid behind");

        originals = new EnumMap<>(Shutdown.class);
        targets = new EnumMap<>(Shutdown.class);
        for (final Shutdown shutdown : Shutdown.values()) {
            final Path template = template(shutdown);
            final Set<String> touched = keysInJournal(template);
            try (ActivationStore reader = ActivationStore.openReadOnly(template)) {
                assertEquals(shutdown == Shutdown.CLEAN ? CLEAN_STEPS : CLEAN_STEPS + UNCLEAN_STEPS, reader.epoch());
                originals.put(shutdown, Workload.expected(reader.epoch()));
                assertEquals(originals.get(shutdown), values(reader, null));
                reader.verify();
                // The largest DENSE column (after an unclean shutdown, of those the journal touched): several blocks.
                String target = null;
                for (final Map.Entry<String, ColumnDescriptor> entry : reader.descriptors().entrySet()) {
                    final ColumnDescriptor d = entry.getValue();
                    if (d.kind() == ColumnKind.DENSE && (shutdown == Shutdown.CLEAN || touched.contains(entry.getKey()))
                        && (target == null || d.byteSize() > reader.describe(target).byteSize())) {
                        target = entry.getKey();
                    }
                }
                assertNotNull(target, "no DENSE key to damage in " + template);
                assertTrue(reader.describe(target).byteSize() > 2 * BLOCK, "key " + target + " spans under 3 blocks");
                assertTrue(reader.describe(target).byteSize() % BLOCK != 0, "key " + target + " has a partial block");
                targets.put(shutdown, target);
            }
        }
        assertTrue(Files.size(cleanTemplate.resolve(StoreFiles.JOURNAL)) == JournalDescriptor.FILE_HEADER_LENGTH);
        assertTrue(Files.size(uncleanTemplate.resolve(StoreFiles.JOURNAL)) > JournalDescriptor.FILE_HEADER_LENGTH);
    }

    static Stream<Arguments> cases() {
        final List<Arguments> all = new ArrayList<>();
        for (final Kind kind : Kind.values()) {
            for (final Damage damage : Damage.values()) {
                for (final Shutdown shutdown : Shutdown.values()) {
                    all.add(Arguments.of(kind, damage, shutdown));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} after {2} shutdown")
    @MethodSource("cases")
    void shouldReportRepairOrProveHarmlessEveryDamage(final Kind kind, final Damage damage, final Shutdown shutdown)
        throws IOException {
        final Expect expect = EXPECTED.get(kind).get(damage).get(shutdown);
        final Path dir = tmp.resolve("store");
        copyTree(template(shutdown), dir);
        final String target = targets.get(shutdown);
        final Path file = fileOf(kind, dir, shutdown);
        final byte[] original = Files.readAllBytes(file);
        damage(kind, damage, file, shutdown);
        final byte[] damaged = Files.readAllBytes(file);

        // A reader first: it writes nothing, so the writer below sees the same damage.
        checkReader(expect, dir, file, damaged, target, shutdown, kind, damage);
        // Chronicle maps the index at its full size, so a writer gives a cut index back its (unused, zero) last byte.
        final byte[] afterHarmless = kind == Kind.INDEX && damage == Damage.TRUNCATE_ONE_BYTE ? original : damaged;
        checkWriter(expect, dir, file, damaged, afterHarmless, original.length, target, shutdown, kind, damage);
    }

    @Test
    void shouldRefuseAManifestWithAnyBitFlipped() throws IOException {
        final Path dir = tmp.resolve("store");
        copyTree(cleanTemplate, dir);
        final Path manifest = dir.resolve(StoreFiles.MANIFEST);
        final int size = Math.toIntExact(Files.size(manifest));
        for (int offset = 0; offset < size; offset++) {
            flipBit(manifest, offset, 1 << offset % 8);
            final int at = offset;
            final CorruptFileException e = assertThrows(CorruptFileException.class,
                () -> ActivationStore.openReadOnly(dir).close(), () -> "reader, bit flipped at byte " + at);
            assertMessage(e, manifest, null, "manifest");
            if (offset % 61 == 0) {
                assertThrows(CorruptFileException.class, () -> ActivationStore.open(dir, OPTIONS).close(),
                    () -> "writer, bit flipped at byte " + at);
            }
            flipBit(manifest, offset, 1 << offset % 8);
        }
    }

    @Test
    void shouldRefuseAJournalWithAnyBitFlippedBeforeItsLastRecordAndDropOnlyTheLastCommitOtherwise()
        throws IOException {
        final Path dir = tmp.resolve("store");
        copyTree(uncleanTemplate, dir);
        final Path journal = dir.resolve(StoreFiles.JOURNAL);
        final byte[] bytes = Files.readAllBytes(journal);
        final ByteBuffer records = ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int lastRecord = JournalDescriptor.FILE_HEADER_LENGTH;
        int count = 0;
        for (int at = lastRecord; at < bytes.length; count++) {
            lastRecord = at;
            at += JournalDescriptor.RECORD_HEADER_LENGTH + records.getInt(at + JournalDescriptor.PAYLOAD_LENGTH_OFFSET)
                + JournalDescriptor.RECORD_TRAILER_LENGTH;
        }
        assertEquals(UNCLEAN_STEPS, count);
        final Map<String, Value> previous = Workload.expected(CLEAN_STEPS + UNCLEAN_STEPS - 1);
        for (int offset = 0; offset < bytes.length; offset++) {
            flipBit(journal, offset, 1 << offset % 8);
            final String where = "bit flipped at byte " + offset + " (last record at " + lastRecord + ")";
            if (offset < lastRecord) {
                final CorruptFileException e = assertThrows(CorruptFileException.class,
                    () -> ActivationStore.openReadOnly(dir).close(), where);
                assertMessage(e, journal, null, "journal");
            } else {
                try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                    assertEquals(CLEAN_STEPS + UNCLEAN_STEPS - 1, reader.epoch(), where);
                    assertEquals(previous, values(reader, null), where);
                }
            }
            flipBit(journal, offset, 1 << offset % 8);
        }
    }

    @Test
    void shouldReportAnyBitFlippedInAnNpyHeaderAndServeTheValuesFromTheDescriptor() throws IOException {
        final Path dir = tmp.resolve("store");
        copyTree(cleanTemplate, dir);
        final String target = targets.get(Shutdown.CLEAN);
        final Path file = StoreFiles.columnFile(dir, describe(Shutdown.CLEAN, target).columnId());
        final List<Long> offsets = new ArrayList<>();
        for (long offset = 0; offset < dictEnd(file) + 16; offset++) {
            offsets.add(offset);
        }
        offsets.addAll(List.of(1000L, 2048L, ActivationStore.HEADER_SIZE - 2L, ActivationStore.HEADER_SIZE - 1L));
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            for (final long offset : offsets) {
                for (int bit = 0; bit < 8; bit++) {
                    flipBit(file, offset, 1 << bit);
                    final CorruptFileException e = assertThrows(CorruptFileException.class, reader::verify,
                        "bit " + bit + " flipped at byte " + offset);
                    assertMessage(e, file, target, "NPY header");
                    assertEquals(originals.get(Shutdown.CLEAN), values(reader, null));
                    flipBit(file, offset, 1 << bit);
                }
            }
            reader.verify();
        }
    }

    @Test
    void shouldRebuildAnIndexWithAnyBitOfAnEntryFlipped() throws IOException {
        final Path dir = tmp.resolve("store");
        copyTree(cleanTemplate, dir);
        final String target = targets.get(Shutdown.CLEAN);
        final Path index = dir.resolve(StoreFiles.INDEX);
        final byte[] original = Files.readAllBytes(index);
        final long value = indexValueOffset(index, describe(Shutdown.CLEAN, target));
        final byte[] key = target.getBytes(StandardCharsets.UTF_8);
        final long keyAt = indexOf(Arrays.copyOfRange(original, (int) value - 64, (int) value), key) + value - 64;
        assertTrue(keyAt > value - 64, "key " + target + " precedes its value in " + index);
        // Every byte of the key and of the value with its CRC32C.
        final long end = value + describe(Shutdown.CLEAN, target).encodedLength() + Integer.BYTES;
        for (long offset = keyAt; offset < end; offset++) {
            if (offset >= keyAt + key.length && offset < value) {
                continue; // Chronicle's own bytes between key and value: its value size
            }
            Files.write(index, original);
            flipBit(index, offset, 1 << offset % 8);
            try (StderrCapture capture = new StderrCapture()) {
                try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                    assertEquals(originals.get(Shutdown.CLEAN), values(writer, null), "byte " + offset);
                }
                assertTrue(capture.text().contains("rebuilding"), "byte " + offset + ": " + capture.text());
            }
        }
    }

    @Test
    void shouldRebuildOrSafelyIgnoreABitFlippedAnywhereInTheIndex() throws IOException {
        // Chronicle's header more densely, the rest (segment headers, hash lookups, entries, free space) sampled.
        final List<Integer> offsets = new ArrayList<>();
        for (int offset = 0; offset < Files.size(cleanTemplate.resolve(StoreFiles.INDEX));
            offset += offset < 256 ? 17 : 59999) {
            offsets.add(offset);
        }
        int rebuilt = 0;
        for (final int offset : offsets) {
            final Path dir = tmp.resolve("store-" + offset);
            copyTree(cleanTemplate, dir);
            flipBit(dir.resolve(StoreFiles.INDEX), offset, 1 << offset % 8);
            try (StderrCapture capture = new StderrCapture()) {
                // Opens on the damaged index, then commits through it: an unused damaged index must stay right.
                try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                    assertEquals(originals.get(Shutdown.CLEAN), values(writer, null), "byte " + offset);
                    Workload.commit(writer, CLEAN_STEPS + 1);
                    assertEquals(Workload.expected(CLEAN_STEPS + 1), values(writer, null), "byte " + offset);
                }
                rebuilt += capture.text().contains("rebuilding") ? 1 : 0;
            }
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                assertEquals(Workload.expected(CLEAN_STEPS + 1), values(reader, null), "byte " + offset);
            }
            StoreFiles.deleteTree(dir);
        }
        assertTrue(rebuilt > 0 && rebuilt < offsets.size(), rebuilt + " of " + offsets.size() + " rebuilt");
    }

    private void checkReader(final Expect expect, final Path dir, final Path file, final byte[] damaged,
        final String target, final Shutdown shutdown, final Kind kind, final Damage damage) throws IOException {
        switch (expect.reader()) {
            case FAILS_OPEN -> {
                final CorruptFileException e = assertThrows(CorruptFileException.class,
                    () -> ActivationStore.openReadOnly(dir).close());
                assertMessage(e, file, null, expect.message());
            }
            case FAILS_VERIFY -> {
                try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                    final CorruptFileException e = assertThrows(CorruptFileException.class, reader::verify);
                    assertMessage(e, file, target, expect.message());
                    assertEquals(without(originals.get(shutdown), target), values(reader, target));
                    checkDamagedKey(reader, kind, damage, target, shutdown);
                }
            }
            case HARMLESS -> {
                try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                    reader.verify();
                    assertEquals(originals.get(shutdown), values(reader, null));
                }
            }
            case LAST_COMMIT_DROPPED -> {
                try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                    assertEquals(CLEAN_STEPS + UNCLEAN_STEPS - 1, reader.epoch());
                    assertEquals(Workload.expected(reader.epoch()), values(reader, null));
                    reader.verify();
                }
            }
            default -> fail("a reader never repairs: " + expect);
        }
        assertArrayEquals(damaged, Files.readAllBytes(file), "a reader changed " + file);
    }

    private void checkWriter(final Expect expect, final Path dir, final Path file, final byte[] damaged,
        final byte[] afterHarmless, final long sizeBefore, final String target, final Shutdown shutdown,
        final Kind kind, final Damage damage) throws IOException {
        final String log;
        try (StderrCapture capture = new StderrCapture()) {
            switch (expect.writer()) {
                case FAILS_OPEN -> {
                    final CorruptFileException e = assertThrows(CorruptFileException.class,
                        () -> ActivationStore.open(dir, OPTIONS).close());
                    assertMessage(e, file, null, expect.message());
                    assertArrayEquals(damaged, Files.readAllBytes(file), "a failed open changed " + file);
                    return;
                }
                case FAILS_VERIFY -> {
                    try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                        final CorruptFileException e = assertThrows(CorruptFileException.class, writer::verify);
                        assertMessage(e, file, target, expect.message());
                        assertEquals(without(originals.get(shutdown), target), values(writer, target));
                        checkDamagedKey(writer, kind, damage, target, shutdown);
                    }
                    return;
                }
                case LAST_COMMIT_DROPPED -> {
                    try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                        assertEquals(CLEAN_STEPS + UNCLEAN_STEPS - 1, writer.epoch());
                        assertEquals(Workload.expected(writer.epoch()), values(writer, null));
                        writer.verify();
                    }
                    log = capture.text();
                    assertTrue(log.contains("dropping a torn tail"), log);
                    return;
                }
                default -> {
                    try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                        writer.verify();
                        assertEquals(originals.get(shutdown), values(writer, null));
                    }
                    log = capture.text();
                }
            }
        }
        if (expect.writer() == Outcome.HARMLESS) {
            assertArrayEquals(afterHarmless, Files.readAllBytes(file), "harmless damage is left as it was: " + file);
            assertFalse(log.contains("WARN"), log);
        } else {
            assertRepaired(kind, dir, file, damaged, sizeBefore, target, shutdown, log);
        }
        // Whatever the writer repaired, the store now opens cleanly, verifies, and serves the original values.
        try (StderrCapture capture = new StderrCapture()) {
            try (ActivationStore writer = ActivationStore.open(dir, OPTIONS)) {
                writer.verify();
                assertEquals(originals.get(shutdown), values(writer, null));
            }
            assertFalse(capture.text().contains("WARN"), capture.text());
        }
    }

    private static void assertRepaired(final Kind kind, final Path dir, final Path file, final byte[] damaged,
        final long sizeBefore, final String target, final Shutdown shutdown, final String log) throws IOException {
        switch (kind) {
            case COLUMN_DATA, CHECKSUMS -> {
                assertEquals(sizeBefore, Files.size(file), "recovery cuts " + file + " to its committed length");
                assertTrue(log.contains("not closed cleanly"), log);
            }
            case NPY_HEADER -> {
                final ColumnDescriptor descriptor = describe(shutdown, target);
                final ByteBuffer expected = NpyHeader.encodePadded(descriptor.dtype(), descriptor.shape(),
                    ActivationStore.HEADER_SIZE);
                final byte[] header = Arrays.copyOf(Files.readAllBytes(file), ActivationStore.HEADER_SIZE);
                assertEquals(expected, ByteBuffer.wrap(header), "recovery rewrote the header of " + target);
                assertTrue(log.contains("not closed cleanly"), log);
            }
            case JOURNAL -> {
                assertTrue(log.contains("dropping a torn tail"), log);
                // The writer cut the garbage; a clean close then checkpointed, leaving only the file header.
                assertEquals(JournalDescriptor.FILE_HEADER_LENGTH, Files.size(file));
            }
            case INDEX -> {
                assertTrue(log.contains(shutdown == Shutdown.CLEAN ? "rebuilding" : "not closed cleanly"), log);
                assertFalse(Arrays.equals(damaged, Files.readAllBytes(file)), "the index was rebuilt");
            }
            default -> fail(kind + " is never repaired");
        }
    }

    // ------------------------------------------------------------------------------------------ damage

    private static Path fileOf(final Kind kind, final Path dir, final Shutdown shutdown) {
        final long columnId = describe(shutdown, targets.get(shutdown)).columnId();
        return switch (kind) {
            case COLUMN_DATA, NPY_HEADER -> StoreFiles.columnFile(dir, columnId);
            case CHECKSUMS -> dir.resolve(StoreFiles.COLUMNS).resolve(columnId + StoreFiles.CHECKSUM_EXTENSION);
            case JOURNAL -> dir.resolve(StoreFiles.JOURNAL);
            case MANIFEST -> dir.resolve(StoreFiles.MANIFEST);
            case INDEX -> dir.resolve(StoreFiles.INDEX);
        };
    }

    private static void damage(final Kind kind, final Damage damage, final Path file, final Shutdown shutdown)
        throws IOException {
        switch (damage) {
            case FLIP_BIT -> flipBit(file, flipOffset(kind, file, shutdown), 0x10);
            case TRUNCATE_ONE_BYTE -> {
                if (kind == Kind.NPY_HEADER) {
                    // The header declares itself one byte shorter (numpy would read the data from offset 4095).
                    final ByteBuffer length = ByteBuffer.allocate(2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    length.putShort(0, (short) (ActivationStore.HEADER_SIZE - 10 - 1));
                    write(file, 8, length.array());
                } else {
                    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                        channel.truncate(channel.size() - 1);
                    }
                }
            }
            case APPEND_GARBAGE -> {
                final byte[] garbage = new byte[kind == Kind.NPY_HEADER ? 16 : 1000];
                new SplittableRandom(7).nextBytes(garbage);
                if (kind == Kind.NPY_HEADER) {
                    // Garbage after the dict text, in the padding the header grows into.
                    write(file, dictEnd(file) + 2, garbage);
                } else {
                    write(file, Files.size(file), garbage);
                }
            }
        }
    }

    private static long flipOffset(final Kind kind, final Path file, final Shutdown shutdown) throws IOException {
        return switch (kind) {
            case COLUMN_DATA -> ActivationStore.HEADER_SIZE + BLOCK + 17;
            case NPY_HEADER -> indexOf(Files.readAllBytes(file), "'shape': (".getBytes(StandardCharsets.US_ASCII)) + 10;
            case CHECKSUMS -> ChecksumDescriptor.entryOffset(0) + 1;
            case JOURNAL -> shutdown == Shutdown.CLEAN ? JournalDescriptor.BASE_EPOCH_OFFSET
                // The payload of the first record: a later valid record proves it is not a torn tail.
                : JournalDescriptor.FILE_HEADER_LENGTH + JournalDescriptor.RECORD_HEADER_LENGTH + 5;
            // The case bit of the damaged key's first letter: valid JSON and a valid key, silently renamed.
            case MANIFEST -> indexOf(Files.readAllBytes(file),
                ("\"" + targets.get(shutdown) + "\" :").getBytes(StandardCharsets.UTF_8)) + 1;
            case INDEX -> indexValueOffset(file, describe(shutdown, targets.get(shutdown))) + 3;
        };
    }

    /** @return where the encoded descriptor (the Chronicle value) of a key sits in {@code index.cmap}. */
    static long indexValueOffset(final Path indexFile, final ColumnDescriptor descriptor) throws IOException {
        final ByteBuffer encoded = ByteBuffer.allocate(descriptor.encodedLength()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        descriptor.encode(encoded);
        final long at = indexOf(Files.readAllBytes(indexFile), encoded.array());
        assertTrue(at > 0, "descriptor of column " + descriptor.columnId() + " not found in " + indexFile);
        return at;
    }

    private static long dictEnd(final Path file) throws IOException {
        final byte[] bytes = Arrays.copyOf(Files.readAllBytes(file), ActivationStore.HEADER_SIZE);
        final long end = indexOf(bytes, "}".getBytes(StandardCharsets.US_ASCII));
        assertTrue(end > 0, "no dict in " + file);
        return end;
    }

    static long indexOf(final byte[] haystack, final byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static void flipBit(final Path file, final long offset, final int mask) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer one = ByteBuffer.allocate(1);
            assertEquals(1, channel.read(one, offset), "offset " + offset + " lies past the end of " + file);
            one.put(0, (byte) (one.get(0) ^ mask)).rewind();
            channel.write(one, offset);
        }
    }

    private static void write(final Path file, final long offset, final byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static Path template(final Shutdown shutdown) {
        return shutdown == Shutdown.CLEAN ? cleanTemplate : uncleanTemplate;
    }

    /** @return the key's committed descriptor, read from the undamaged template. */
    private static ColumnDescriptor describe(final Shutdown shutdown, final String key) {
        final Manifest manifest = Manifest.read(template(shutdown).resolve(StoreFiles.MANIFEST));
        ColumnDescriptor descriptor = manifest.columns().get(key);
        final JournalReader.Scan scan = JournalReader.scan(template(shutdown).resolve(StoreFiles.JOURNAL));
        for (final JournalRecord record : scan.records()) {
            for (final JournalRecord.Entry entry : record.entries()) {
                if (entry.key().equals(key)) {
                    descriptor = entry.descriptor();
                }
            }
        }
        assertNotNull(descriptor, key);
        return descriptor;
    }

    private static Set<String> keysInJournal(final Path dir) {
        final Set<String> keys = new java.util.TreeSet<>();
        for (final JournalRecord record : JournalReader.scan(dir.resolve(StoreFiles.JOURNAL)).records()) {
            record.entries().forEach(entry -> keys.add(entry.key()));
        }
        return keys;
    }

    /** A key's value, comparable: kind, dtype, shape(s) and every byte. */
    record Value(String description, byte[] bytes) {
        static Value of(final ColumnKind kind, final List<TensorView> views) {
            final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            final StringBuilder description = new StringBuilder(kind + " " + views.get(0).dtype());
            for (final TensorView view : views) {
                description.append(' ').append(view.shape());
                final ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(view.byteSize()));
                view.copyTo(copy);
                bytes.writeBytes(copy.array());
            }
            return new Value(description.toString(), bytes.toByteArray());
        }

        @Override
        public boolean equals(final Object o) {
            return o instanceof Value v && v.description.equals(description) && Arrays.equals(v.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return description.hashCode() * 31 + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return description + " crc " + Long.toHexString(crc(bytes));
        }

        private static long crc(final byte[] bytes) {
            final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes);
            return crc.getValue();
        }
    }

    /** @return every key's value read through the store's mapped views, except {@code skip}. */
    static Map<String, Value> values(final ActivationStore store, final String skip) {
        final Map<String, Value> all = new TreeMap<>();
        for (final Map.Entry<String, ColumnDescriptor> entry : store.descriptors().entrySet()) {
            final String key = entry.getKey();
            if (key.equals(skip)) {
                continue;
            }
            all.put(key, value(store, key));
        }
        all.put(METADATA, new Value(store.metadata().toString(), new byte[0]));
        return all;
    }

    static Value value(final ActivationStore store, final String key) {
        final ColumnKind kind = store.describe(key).kind();
        return Value.of(kind, kind == ColumnKind.LIST ? store.getList(key) : List.of(store.get(key)));
    }

    /**
     * Reads the damaged key after {@code verify()} reported it: damage outside its data leaves its values intact, a
     * cut data file fails the read, and a flipped data bit is served only as the block verify() named.
     */
    private static void checkDamagedKey(final ActivationStore store, final Kind kind, final Damage damage,
        final String target, final Shutdown shutdown) {
        final Value original = originals.get(shutdown).get(target);
        if (kind != Kind.COLUMN_DATA) {
            assertEquals(original, value(store, target));
        } else if (damage == Damage.TRUNCATE_ONE_BYTE) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> value(store, target));
            assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("'" + target + "'"),
                e.getMessage());
        } else {
            final byte[] read = value(store, target).bytes();
            int differing = 0;
            for (int i = 0; i < read.length; i++) {
                differing += Integer.bitCount((read[i] ^ original.bytes()[i]) & 0xFF);
            }
            assertEquals(1, differing, "exactly the flipped bit differs");
        }
    }

    private static Map<String, Value> without(final Map<String, Value> values, final String key) {
        final Map<String, Value> copy = new TreeMap<>(values);
        copy.remove(key);
        return copy;
    }

    private static void assertMessage(final Throwable e, final Path file, final String key, final String... parts) {
        final StringBuilder all = new StringBuilder(String.valueOf(e.getMessage()));
        for (final Throwable suppressed : e.getSuppressed()) {
            all.append('\n').append(suppressed.getMessage());
        }
        final String message = all.toString();
        assertTrue(message.contains(file.toString()), "names " + file + ": " + message);
        if (key != null) {
            assertTrue(message.contains("'" + key + "'"), "names key " + key + ": " + message);
        }
        for (final String part : parts) {
            assertTrue(message.contains(part), "says '" + part + "': " + message);
        }
    }

    static void copyTree(final Path from, final Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (final Path path : (Iterable<Path>) paths::iterator) {
                final Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }

    /** Collects what the store logs (slf4j-simple writes to the current {@code System.err}). */
    static final class StderrCapture implements AutoCloseable {
        private final PrintStream original = System.err;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        StderrCapture() {
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        }

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            System.setErr(original);
        }
    }

    /**
     * The deterministic history of the damaged stores: commit {@code step} always does the same thing (appends
     * to three growing DENSE keys, replaces a scalar and a small key, list items, a key created and removed in
     * turn, metadata), so {@link #expected(long)} replays any epoch without a store.
     */
    static final class Workload {
        private static final int WIDTH = 97;

        private Workload() {
        }

        static void commit(final ActivationStore store, final long step) {
            try (ActivationStore.Batch batch = store.batch()) {
                batch.append("acts_" + step % 3, rows(step));
                if (step % 7 == 0) {
                    batch.put("scalar", TestData.random(DType.F64, Shape.of(), step));
                }
                if (step % 11 == 0) {
                    batch.appendToList("pattern", item(step).view());
                }
                if (step % 13 == 0) {
                    batch.put("replaced", TestData.random(DType.F32, Shape.of(2, 5), step));
                }
                if (step % 17 == 5) {
                    if (store.contains("doomed")) {
                        batch.remove("doomed");
                    } else {
                        batch.append("doomed", TestData.random(DType.I32, Shape.of(1, 4), step));
                    }
                }
                if (step % 19 == 0) {
                    batch.putMetadata("step", Long.toString(step));
                }
                batch.commit();
            }
        }

        static Map<String, Value> expected(final long epoch) {
            final Map<String, List<TensorView>> dense = new TreeMap<>();
            final List<TensorView> pattern = new ArrayList<>();
            final Map<String, String> metadata = new TreeMap<>();
            for (long step = 1; step <= epoch; step++) {
                dense.computeIfAbsent("acts_" + step % 3, k -> new ArrayList<>()).add(rows(step).view());
                if (step % 7 == 0) {
                    dense.put("scalar", List.of(TestData.random(DType.F64, Shape.of(), step).view()));
                }
                if (step % 11 == 0) {
                    pattern.add(item(step).view());
                }
                if (step % 13 == 0) {
                    dense.put("replaced", List.of(TestData.random(DType.F32, Shape.of(2, 5), step).view()));
                }
                if (step % 17 == 5 && dense.remove("doomed") == null) {
                    dense.put("doomed", List.of(TestData.random(DType.I32, Shape.of(1, 4), step).view()));
                }
                if (step % 19 == 0) {
                    metadata.put("step", Long.toString(step));
                }
            }
            final Map<String, Value> all = new TreeMap<>();
            dense.forEach((key, pieces) -> {
                final Value joined = Value.of(ColumnKind.DENSE, pieces);
                long rows = 0;
                for (final TensorView piece : pieces) {
                    rows += piece.shape().rank() == 0 ? 1 : piece.shape().dim(0);
                }
                final Shape shape = pieces.get(0).shape().rank() == 0 ? Shape.of()
                    : pieces.get(0).shape().withDim0(rows);
                all.put(key, new Value(ColumnKind.DENSE + " " + pieces.get(0).dtype() + " " + shape, joined.bytes()));
            });
            if (!pattern.isEmpty()) {
                all.put("pattern", Value.of(ColumnKind.LIST, pattern));
            }
            all.put(METADATA, new Value(metadata.toString(), new byte[0]));
            return all;
        }

        private static Tensor rows(final long step) {
            return TestData.random(DType.F32, Shape.of(1 + step % 5, WIDTH), step);
        }

        private static Tensor item(final long step) {
            return TestData.random(DType.I16, Shape.of(1 + step % 5, 1 + step % 3), step);
        }
    }

    /** Child: opens a store, commits workload steps up to the given one, and halts without closing. */
    public static final class HaltingWriter {
        public static void main(final String[] args) {
            final ActivationStore store = ActivationStore.open(Path.of(args[0]), OPTIONS);
            for (long step = store.epoch() + 1; step <= Long.parseLong(args[1]); step++) {
                Workload.commit(store, step);
            }
            System.out.println("halting at epoch " + store.epoch());
            System.out.flush();
            Runtime.getRuntime().halt(0);
        }
    }
}
