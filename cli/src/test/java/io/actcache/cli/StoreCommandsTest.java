package io.actcache.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static io.actcache.cli.CliRun.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code create}, {@code ls}, {@code path}, {@code verify} and {@code merge} on real stores. */
class StoreCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void shouldCreateAStoreWithTheGivenOptionsAndRefuseToOverwriteOne() throws IOException {
        final Path dir = tmp.resolve("new/store");
        final CliRun run = execute("create", dir.toString(), "--durability", "process", "--capacity", "500", "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertEquals("PROCESS", JSON.readTree(run.out()).get("durability").asText());
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertEquals(Durability.PROCESS, store.durability());
            assertEquals(0, store.size());
            store.append("a", Tensor.ofFloats(Shape.of(1), 1));
        }
        final Map<String, Integer> before = CliRun.snapshot(dir);
        final CliRun again = execute("create", dir.toString());
        assertEquals(ExitCodes.USAGE, again.code());
        assertTrue(again.firstErrLine().contains(dir.toString()) && again.firstErrLine().contains("already"),
            again.err());
        assertEquals(before, CliRun.snapshot(dir));
        assertEquals(ExitCodes.USAGE, execute("create", tmp.resolve("x").toString(), "--capacity", "0").code());
        assertEquals(ExitCodes.USAGE, execute("create", tmp.resolve("y").toString(), "--durability", "always").code());
    }

    @Test
    void shouldListKeysByGlobOrRegex() throws IOException {
        final Path dir = layeredStore(tmp.resolve("s"), 12, 0);
        final List<String> singleDigit = execute("ls", dir.toString(), "blocks.?.hook_resid_post").out().lines()
            .toList();
        assertEquals(10, singleDigit.size(), singleDigit.toString());
        assertEquals("blocks.0.hook_resid_post", singleDigit.get(0));
        assertEquals("blocks.9.hook_resid_post", singleDigit.get(9));
        assertEquals(3, execute("ls", dir.toString(), "blocks.1*").out().lines().count(), "1, 10 and 11");
        assertEquals(List.of("blocks.10.hook_resid_post", "blocks.11.hook_resid_post"),
            execute("ls", dir.toString(), "--regex", "blocks\\.1[0-9]\\..*").out().lines().toList());
        assertEquals(13, execute("ls", dir.toString()).out().lines().count(), "12 layers and input_ids");
        final CliRun longListing = execute("ls", "-l", dir.toString(), "input_ids");
        assertEquals("input_ids\tLIST\tI64\t[2]\t32\n", longListing.out(), "two items of two I64");
        final JsonNode json = JSON.readTree(execute("ls", dir.toString(), "blocks.3.*", "--json").out());
        assertEquals(1, json.size());
        assertEquals("[2,4]", json.get(0).get("shape").toString());
        assertEquals("F32", json.get(0).get("dtype").asText());
        final CliRun bad = execute("ls", dir.toString(), "--regex", "blocks.(");
        assertEquals(ExitCodes.USAGE, bad.code());
        assertTrue(bad.firstErrLine().contains("blocks.("), bad.err());
    }

    @Test
    void shouldShowTheMemoryTreeByPrefixInInfo() throws IOException {
        final Path dir = layeredStore(tmp.resolve("s"), 12, 0);
        try (ActivationStore store = ActivationStore.open(dir)) {
            store.append("blocks.3.attn.hook_pattern", Tensor.allocate(DType.F32, Shape.of(1, 2, 8)));
        }
        final JsonNode json = JSON.readTree(execute("info", dir.toString(), "--json").out());
        final JsonNode prefixes = json.get("prefixes");
        assertEquals(12 * 32 + 64, prefixes.get("blocks.").asLong(), "12 resid_post of 32 B and one pattern");
        assertEquals(32 + 64, prefixes.get("blocks.3.").asLong());
        assertEquals(List.of("blocks.", "blocks.3."), iterate(prefixes.fieldNames()),
            "a layer with one key and input_ids alone are keys, not prefixes");
        final CliRun text = execute("info", dir.toString());
        assertTrue(text.out().contains("prefix      blocks.3.  96 bytes (96 B)\n"), text.out());
    }

    private static List<String> iterate(final java.util.Iterator<String> names) {
        final List<String> list = new java.util.ArrayList<>();
        names.forEachRemaining(list::add);
        return list;
    }

    @Test
    void shouldPrintTheNpyFileOfADenseKeyAndExplainWhyAListHasNone() throws IOException {
        final Path dir = layeredStore(tmp.resolve("s"), 2, 0);
        final CliRun run = execute("path", dir.toString(), "blocks.1.hook_resid_post");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        final Path file = Path.of(run.out().strip());
        assertTrue(file.isAbsolute() && file.toString().endsWith(".npy"), run.out());
        final byte[] bytes = Files.readAllBytes(file);
        assertEquals((byte) 0x93, bytes[0]);
        assertTrue(new String(bytes, 0, 200, java.nio.charset.StandardCharsets.ISO_8859_1)
            .contains("'shape': (2, 4)"));
        final CliRun list = execute("path", dir.toString(), "input_ids");
        assertEquals(ExitCodes.USAGE, list.code());
        assertTrue(list.firstErrLine().contains("'input_ids'") && list.firstErrLine().contains("LIST"), list.err());
        final CliRun missing = execute("path", dir.toString(), "blocks.7.hook_resid_post");
        assertEquals(ExitCodes.USAGE, missing.code());
        assertTrue(missing.firstErrLine().contains("blocks.7.hook_resid_post"), missing.err());
    }

    @Test
    void shouldVerifyACleanStoreAndNameEveryDamagedKey() throws IOException {
        final Path dir = layeredStore(tmp.resolve("s"), 3, 0);
        final CliRun clean = execute("verify", dir.toString());
        assertEquals(ExitCodes.OK, clean.code(), clean.err());
        assertTrue(clean.out().startsWith("ok  4 keys, "), clean.out());
        final JsonNode ok = JSON.readTree(execute("verify", dir.toString(), "--json").out());
        assertTrue(ok.get("ok").asBoolean());
        assertEquals(3 * 32 + 32, ok.get("bytesChecked").asLong(), "3 F32 [2,4] and two I64 [2] items");

        final Path damaged;
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            damaged = store.columnFile("blocks.1.hook_resid_post");
        }
        flipByte(damaged, ActivationStore.HEADER_SIZE + 5);
        final CliRun bad = execute("verify", dir.toString());
        assertEquals(ExitCodes.CORRUPT, bad.code(), bad.err());
        assertTrue(bad.firstErrLine().startsWith("actcache: 1 of 4 keys"), bad.err());
        assertTrue(bad.out().contains("blocks.1.hook_resid_post") && bad.out().contains(damaged.toString()),
            bad.out());
        final JsonNode report = JSON.readTree(execute("verify", dir.toString(), "--json").out());
        assertFalse(report.get("ok").asBoolean());
        assertTrue(report.get("damaged").has("blocks.1.hook_resid_post"));
    }

    @Test
    void shouldMergeWorkerStoresInOrderInOneCommit() throws IOException {
        final Path first = layeredStore(tmp.resolve("w0"), 2, 0);
        final Path second = layeredStore(tmp.resolve("w1"), 2, 100);
        final Path merged = tmp.resolve("all");
        final CliRun run = execute("merge", merged.toString(), first.toString(), second.toString(), "--json");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        final JsonNode json = JSON.readTree(run.out());
        assertTrue(json.get("created").asBoolean());
        assertEquals(3, json.get("keys").asInt());
        try (ActivationStore store = ActivationStore.openReadOnly(merged)) {
            final TensorView layer1 = store.get("blocks.1.hook_resid_post");
            assertEquals(Shape.of(4, 4), layer1.shape());
            assertEquals(value(1, 0, 0), layer1.getFloat(0));
            assertEquals(value(1, 100, 0), layer1.getFloat(8), "the second worker's rows follow the first's");
            assertEquals(4, store.getList("input_ids").size(), "kept as a list of every batch");
            assertEquals("w1", store.metadata().get("worker"), "the later source wins");
            assertEquals(1, store.epoch() - 1, "data in one commit, metadata in the next");
        }
        final CliRun again = execute("merge", merged.toString(), first.toString());
        assertEquals(ExitCodes.OK, again.code(), again.err());
        try (ActivationStore store = ActivationStore.openReadOnly(merged)) {
            assertEquals(Shape.of(6, 4), store.get("blocks.0.hook_resid_post").shape());
        }
    }

    @Test
    void shouldLeaveTheDestinationUnchangedWhenASourceDoesNotFit() throws IOException {
        final Path merged = layeredStore(tmp.resolve("all"), 2, 0);
        final Path fits = layeredStore(tmp.resolve("fits"), 2, 1);
        final Path moreLayers = layeredStore(tmp.resolve("more"), 3, 2);
        final Map<String, Integer> before = CliRun.snapshot(merged);
        final CliRun run = execute("merge", merged.toString(), fits.toString(), moreLayers.toString());
        assertEquals(ExitCodes.USAGE, run.code(), run.err());
        assertTrue(run.firstErrLine().contains("blocks.2.hook_resid_post"), run.err());
        assertEquals(before, CliRun.snapshot(merged));

        final Path wider = tmp.resolve("wider");
        try (ActivationStore store = ActivationStore.create(wider, StoreOptions.defaults())) {
            store.append("blocks.0.hook_resid_post", Tensor.allocate(DType.F32, Shape.of(2, 5)));
            store.append("blocks.1.hook_resid_post", Tensor.allocate(DType.F32, Shape.of(2, 4)));
            store.batch().appendToList("input_ids", Tensor.ofLongs(Shape.of(2), 1, 2).view()).commit();
        }
        final CliRun shapes = execute("merge", merged.toString(), fits.toString(), wider.toString());
        assertEquals(ExitCodes.USAGE, shapes.code(), shapes.err());
        assertTrue(shapes.firstErrLine().contains("blocks.0.hook_resid_post"), shapes.err());
        assertEquals(before, CliRun.snapshot(merged));
        assertEquals(ExitCodes.USAGE, execute("merge", merged.toString(), merged.toString()).code());
        assertEquals(ExitCodes.USAGE, execute("merge", merged.toString(), tmp.resolve("none").toString()).code());
        assertEquals(before, CliRun.snapshot(merged));
    }

    @Test
    void shouldLeaveNoStoreWhereAFailedMergeWouldHaveCreatedOne() throws IOException {
        final Path fits = layeredStore(tmp.resolve("fits"), 2, 1);
        final Path moreLayers = layeredStore(tmp.resolve("more"), 3, 2);
        final Path missing = tmp.resolve("new");
        final CliRun run = execute("merge", missing.toString(), fits.toString(), moreLayers.toString());
        assertEquals(ExitCodes.USAGE, run.code(), run.err());
        assertFalse(Files.exists(missing), "the destination did not exist and still does not");
        final Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertEquals(ExitCodes.USAGE, execute("merge", empty.toString(), fits.toString(), moreLayers.toString()).code());
        try (java.util.stream.Stream<Path> entries = Files.list(empty)) {
            assertEquals(0, entries.count(), "the empty destination is empty again");
        }
        assertEquals(ExitCodes.OK, execute("merge", missing.toString(), fits.toString()).code(), "and can be retried");
    }

    @Test
    void shouldListAKeyWhoseCommittedFileIsMissingAsDamagedAndGoOn() throws IOException {
        final Path dir = layeredStore(tmp.resolve("s"), 3, 0);
        final Path gone;
        final Path flipped;
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            gone = store.columnFile("blocks.0.hook_resid_post");
            flipped = store.columnFile("blocks.2.hook_resid_post");
        }
        Files.delete(gone);
        flipByte(flipped, ActivationStore.HEADER_SIZE + 5);
        final CliRun run = execute("verify", dir.toString(), "--json");
        assertEquals(ExitCodes.CORRUPT, run.code(), run.err());
        final JsonNode report = JSON.readTree(run.out());
        assertTrue(report.get("damaged").has("blocks.0.hook_resid_post"), run.out());
        assertTrue(report.get("damaged").get("blocks.0.hook_resid_post").asText().contains(gone.toString()), run.out());
        assertTrue(report.get("damaged").has("blocks.2.hook_resid_post"), run.out());
    }

    @Test
    void shouldRefuseToCreateAStoreOverAFileAsBadUsage() throws IOException {
        final Path file = Files.writeString(tmp.resolve("notes.txt"), "hello");
        final CliRun run = execute("create", file.toString());
        assertEquals(ExitCodes.USAGE, run.code(), run.err());
        assertTrue(run.firstErrLine().contains("not a directory"), run.err());
        assertEquals("hello", Files.readString(file));
    }

    @Test
    void shouldShowManPageHelpForEveryCommand() {
        for (final String command : List.of("create", "ls", "path", "verify", "merge")) {
            final CliRun help = execute(command, "--help");
            assertEquals(ExitCodes.OK, help.code(), command);
            assertTrue(help.out().contains("Usage: actcache " + command), help.out());
            assertTrue(help.out().contains("Examples:"), help.out());
            assertTrue(execute("--help").out().contains(command), "listed by the top-level usage: " + command);
        }
    }

    /** Layers of F32 [2, 4] rows valued by layer, offset and index, plus input_ids as a list of two items. */
    private static Path layeredStore(final Path dir, final int layers, final int offset) {
        try (ActivationStore store = ActivationStore.create(dir,
            StoreOptions.builder().durability(Durability.PROCESS).build())) {
            final ActivationStore.Batch batch = store.batch();
            for (int layer = 0; layer < layers; layer++) {
                final Tensor tensor = Tensor.allocate(DType.F32, Shape.of(2, 4));
                for (int i = 0; i < 8; i++) {
                    tensor.setFloat(i, value(layer, offset, i));
                }
                batch.append("blocks." + layer + ".hook_resid_post", tensor);
            }
            batch.appendToList("input_ids", Tensor.ofLongs(Shape.of(2), offset, offset + 1).view());
            batch.appendToList("input_ids", Tensor.ofLongs(Shape.of(2), offset + 2, offset + 3).view());
            batch.putMetadata("worker", dir.getFileName().toString());
            batch.commit();
        }
        return dir;
    }

    private static float value(final int layer, final int offset, final int index) {
        return layer * 1000 + offset + index;
    }

    private static void flipByte(final Path file, final long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x10));
            channel.write(one.flip(), position);
        }
    }
}
