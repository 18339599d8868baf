package io.actcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.NotAStoreException;
import io.actcache.StoreIOException;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private static final boolean DEBUG_ENV = CliRun.DEBUG_ENV;

    @TempDir
    Path tmp;

    @Test
    void shouldMapFailuresToExitCodes() {
        assertEquals(ExitCodes.CORRUPT, ExitCodes.of(new CorruptFileException("bad crc")));
        assertEquals(ExitCodes.CORRUPT, ExitCodes.of(new FormatTooNewException("too new")));
        assertEquals(ExitCodes.IO, ExitCodes.of(new StoreIOException("disk full")));
        assertEquals(ExitCodes.IO, ExitCodes.of(new IOException("disk full")));
        assertEquals(ExitCodes.IO, ExitCodes.of(new UncheckedIOException(new IOException("disk full"))));
        assertEquals(ExitCodes.IO, ExitCodes.of(new IllegalStateException("wrapped", new IOException("eio"))));
        assertEquals(ExitCodes.USAGE, ExitCodes.of(new NotAStoreException("no store")));
        assertEquals(ExitCodes.USAGE, ExitCodes.of(new IllegalArgumentException("bad")));
    }

    @Test
    void shouldExitOneWithOneLineNamingAMissingStore() {
        final Path missing = tmp.resolve("missing");
        final CliRun run = execute("info", missing.toString());
        assertEquals(ExitCodes.USAGE, run.code());
        assertTrue(run.err().startsWith("actcache: "), run.err());
        assertTrue(run.firstErrLine().contains(missing.toString()), run.err());
        if (!DEBUG_ENV) {
            assertEquals(1, run.err().lines().count(), run.err());
        }
        assertEquals("", run.out());
    }

    @Test
    void shouldExitTwoForADamagedStoreAndTraceOnlyWhenVerbose() throws IOException {
        Files.writeString(tmp.resolve("actcache.properties"), "\u0000garbage = = =\n");
        final CliRun quiet = execute("info", tmp.toString());
        assertEquals(ExitCodes.CORRUPT, quiet.code());
        assertTrue(quiet.err().startsWith("actcache: "), quiet.err());
        if (!DEBUG_ENV) {
            assertFalse(quiet.err().contains("\tat "), quiet.err());
        }
        final CliRun verbose = execute("info", "--verbose", tmp.toString());
        assertEquals(ExitCodes.CORRUPT, verbose.code());
        assertEquals(quiet.firstErrLine(), verbose.firstErrLine());
        assertTrue(verbose.err().contains("\tat io.actcache."), verbose.err());
    }

    @Test
    void shouldExitOneForUsageErrors() {
        final CliRun unknown = execute("nosuchcommand");
        assertEquals(ExitCodes.USAGE, unknown.code());
        assertTrue(unknown.firstErrLine().startsWith("actcache: ") && unknown.err().contains("nosuchcommand"),
            unknown.err());
        assertEquals(ExitCodes.USAGE, execute("info").code());
        assertEquals(ExitCodes.USAGE, execute("demo", "--batches", "0").code());
        assertEquals(ExitCodes.USAGE, execute("demo", "--durability", "SOMETIMES").code());
    }

    @Test
    void shouldShowHelpAndVersion() {
        final CliRun help = execute("info", "--help");
        assertEquals(ExitCodes.OK, help.code());
        assertTrue(help.out().contains("Usage: actcache info"), help.out());
        final CliRun version = execute("--version");
        assertEquals(ExitCodes.OK, version.code());
        assertTrue(version.out().startsWith("actcache "), version.out());
    }

    @Test
    void shouldPrintATableOfKeysAndTotals() {
        final Path dir = smallStore();
        final CliRun run = execute("info", dir.toString());
        assertEquals(ExitCodes.OK, run.code(), run.err());
        final String[] lines = run.out().split("\n");
        assertTrue(lines[0].matches("KEY +KIND +DTYPE +CODEC +SHAPE +BYTES +STORED +RATIO +FILE"), lines[0]);
        assertTrue(lines[1].matches(
            "blocks\\.0\\.hook_resid_post +DENSE +F32 +RAW +\\[3, 4] +48 \\(48 B\\) +48 \\(48 B\\) +1\\.00 "
            + "+columns/\\d+\\.npy"), lines[1]);
        assertTrue(lines[2].matches("input_ids +DENSE +I64 +RAW +\\[2] +16 \\(16 B\\) +16 \\(16 B\\) +1\\.00 "
            + "+columns/\\d+\\.npy"), lines[2]);
        assertTrue(lines[3].matches("ragged +LIST +I64 +RAW +.* +columns/\\d+\\.list"), lines[3]);
        assertTrue(run.out().contains("\nmetadata    model = gpt2-small\n"), run.out());
        assertTrue(run.out().contains("\nkeys        3\n"), run.out());
        assertTrue(run.out().contains("\nstored      88 bytes (88 B)\n"), run.out());
        assertTrue(run.out().contains("\ndurability  PROCESS\n"), run.out());
        assertTrue(run.out().contains("\nepoch       4\n"), run.out());
    }

    @Test
    void shouldPrintExactNumbersAsJson() throws IOException {
        final Path dir = smallStore();
        final CliRun run = execute("info", dir.toString(), "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        final JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(3, json.get("keyCount").asInt());
        assertEquals(88, json.get("bytesStored").asLong());
        assertEquals("gpt2-small", json.get("metadata").get("model").asText());
        assertEquals("LIST", json.get("columns").get("ragged").get("kind").asText());
        assertTrue(json.get("bytesOnDisk").asLong() > 2 * ActivationStore.HEADER_SIZE);
        assertEquals("PROCESS", json.get("durability").asText());
        final JsonNode resid = json.get("columns").get("blocks.0.hook_resid_post");
        assertEquals("[3,4]", resid.get("shape").toString());
        assertEquals("F32", resid.get("dtype").asText());
        assertEquals(48, resid.get("bytes").asLong());
        assertTrue(Files.isRegularFile(dir.resolve(resid.get("file").asText())));
    }

    private Path smallStore() {
        final Path dir = tmp.resolve("store");
        try (ActivationStore store =
                 ActivationStore.create(dir, StoreOptions.builder().durability(Durability.PROCESS).build())) {
            store.append("blocks.0.hook_resid_post", Tensor.allocate(DType.F32, Shape.of(1, 4)));
            store.append("blocks.0.hook_resid_post", Tensor.allocate(DType.F32, Shape.of(2, 4)));
            store.append("input_ids", Tensor.ofLongs(Shape.of(2), 50256, 11));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.appendToList("ragged", Tensor.ofLongs(Shape.of(3), 1, 2, 3).view());
                batch.putMetadata("model", "gpt2-small");
                batch.commit();
            }
        }
        return dir;
    }

    private static CliRun execute(final String... args) {
        return CliRun.execute(args);
    }
}
