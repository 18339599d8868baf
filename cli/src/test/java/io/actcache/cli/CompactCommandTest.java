package io.actcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreFiles;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code actcache compact} on real stores: output, exit codes, and what it leaves on disk. */
class CompactCommandTest {
    private static final boolean DEBUG_ENV = CliRun.DEBUG_ENV;
    /** Orphans of a failed commit: column files no key references, with their sizes. */
    private static final List<String> ORPHANS = List.of("9001.npy", "9001.crc");
    private static final int[] ORPHAN_SIZES = {5000, 68};

    @TempDir
    Path tmp;

    @Test
    void shouldDeleteOrphansAndPrintASummary() throws IOException {
        final Path dir = storeWithOrphans();
        final CliRun run = execute("compact", dir.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().startsWith("store       " + dir.toAbsolutePath().normalize() + "\n"), run.out());
        assertTrue(run.out().contains("\ndeleted     2 files, 5068 bytes (4.9 KiB)\n"), run.out());
        assertTrue(run.out().contains("\ntrimmed     0 bytes (0 B)\n"), run.out());
        assertTrue(run.out().matches("(?s).*\ndirectory   \\d+ bytes \\(.*\\) -> \\d+ bytes \\(.*\\)\n.*"), run.out());
        assertTrue(run.out().matches("(?s).*\nreclaimed   \\d+ bytes \\(.*\\)\n"), run.out());
        assertOrphansGoneAndValuesKept(dir);
    }

    @Test
    void shouldPrintExactNumbersAsJson() throws IOException {
        final Path dir = storeWithOrphans();
        final CliRun run = execute("compact", dir.toString(), "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        final JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(2, json.get("filesDeleted").asInt());
        assertEquals(5068, json.get("bytesDeleted").asLong());
        assertEquals(0, json.get("bytesTrimmed").asLong());
        assertEquals(0, json.get("columnsRewritten").asInt());
        assertEquals(json.get("directoryBytesBefore").asLong() - json.get("directoryBytesAfter").asLong(),
            json.get("bytesReclaimed").asLong());
        assertTrue(json.get("bytesOnDiskAfter").asLong() > 0);
        assertEquals(3, json.get("epoch").asLong());
        assertOrphansGoneAndValuesKept(dir);
    }

    @Test
    void shouldPrintNothingWhenQuiet() throws IOException {
        final Path dir = storeWithOrphans();
        final CliRun run = execute("compact", "--quiet", dir.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertEquals("", run.out());
        assertOrphansGoneAndValuesKept(dir);
    }

    @Test
    void shouldExitOneForUsageErrorsAndAMissingStore() {
        final CliRun both = execute("compact", "--json", "--quiet", tmp.toString());
        assertEquals(ExitCodes.USAGE, both.code());
        assertTrue(both.firstErrLine().startsWith("actcache: ") && both.err().contains("mutually exclusive"), both.err());
        assertEquals(ExitCodes.USAGE, execute("compact").code());

        final Path missing = tmp.resolve("missing");
        final CliRun run = execute("compact", missing.toString());
        assertEquals(ExitCodes.USAGE, run.code());
        assertTrue(run.firstErrLine().startsWith("actcache: ") && run.firstErrLine().contains(missing.toString()),
            run.err());
        if (!DEBUG_ENV) {
            assertEquals(1, run.err().lines().count(), run.err());
        }
        assertFalse(Files.exists(missing), "compact creates nothing");
    }

    @Test
    void shouldExitOneWhileAnotherWriterHoldsTheStore() throws IOException {
        final Path dir = storeWithOrphans();
        try (ActivationStore writer = ActivationStore.open(dir)) {
            final CliRun run = execute("compact", dir.toString());
            assertEquals(ExitCodes.USAGE, run.code());
            assertTrue(run.firstErrLine().startsWith("actcache: ") && run.firstErrLine().contains(dir.toString()),
                run.err());
            assertTrue(writer.contains("a"));
        }
        assertTrue(Files.exists(dir.resolve(StoreFiles.COLUMNS).resolve(ORPHANS.get(0))), "nothing was deleted");
    }

    @Test
    void shouldExitTwoWhenALiveColumnFileIsShort() throws IOException {
        final Path dir = storeWithOrphans();
        final Path file;
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            file = store.columnFile("a");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 1);
        }
        final CliRun run = execute("compact", dir.toString());
        assertEquals(ExitCodes.CORRUPT, run.code(), run.err());
        assertTrue(run.firstErrLine().startsWith("actcache: ") && run.firstErrLine().contains(file.toString()),
            run.err());
    }

    @Test
    void shouldShowManPageHelp() {
        final CliRun help = execute("compact", "--help");
        assertEquals(ExitCodes.OK, help.code());
        assertTrue(help.out().contains("Usage: actcache compact"), help.out());
        assertTrue(help.out().contains("--json") && help.out().contains("--quiet"), help.out());
        assertTrue(help.out().contains("Exit status:"), help.out());
        assertTrue(execute("--help").out().contains("compact"), "listed by the top-level usage");
    }

    /** A store with keys a (F32) and b (I64) over three commits, closed, then two orphan column files. */
    private Path storeWithOrphans() throws IOException {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store =
                 ActivationStore.create(dir, StoreOptions.builder().durability(Durability.PROCESS).build())) {
            store.append("a", Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 4));
            store.append("b", Tensor.ofLongs(Shape.of(2), 50256, 11));
            store.put("b", Tensor.ofLongs(Shape.of(3), 7, 8, 9));
        }
        for (int i = 0; i < ORPHANS.size(); i++) {
            Files.write(dir.resolve(StoreFiles.COLUMNS).resolve(ORPHANS.get(i)), new byte[ORPHAN_SIZES[i]]);
        }
        return dir;
    }

    private static void assertOrphansGoneAndValuesKept(final Path dir) {
        for (final String orphan : ORPHANS) {
            assertFalse(Files.exists(dir.resolve(StoreFiles.COLUMNS).resolve(orphan)), orphan);
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            assertTrue(store.get("a").contentEquals(Tensor.ofFloats(Shape.of(2, 2), 1, 2, 3, 4).view()));
            assertEquals(DType.I64, store.get("b").dtype());
            assertTrue(store.get("b").contentEquals(Tensor.ofLongs(Shape.of(3), 7, 8, 9).view()));
            store.verify();
        }
    }

    private static CliRun execute(final String... args) {
        return CliRun.execute(args);
    }
}
