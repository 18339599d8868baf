package io.actcache.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LargerThanRam} run small ({@code --gib}) as the script runs it: a separate JVM with {@code -Xmx512m}
 * and the pom's flags. Checks what the JSON says against the run's own parameters; no figure is judged.
 */
class LargerThanRamTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldWriteReadAndReportASmallStoreInA512MiBHeap() throws IOException, InterruptedException {
        final Path store = dir.resolve("run");
        final Path out = dir.resolve("results.json");
        final Result result = run("--gib", "0.0625", "--batch-mib", "8", "--block-mib", "4", "--repeat", "2",
            "--max-mapped-mib", "16", "--dir", store.toString(), "--out", out.toString());
        assertEquals(0, result.exitCode(), result.output());
        final JsonNode json = JSON.readTree(out.toFile());
        final long rowBytes = LargerThanRam.ROW_WIDTH * 4L;
        final long batchBytes = (8L << 20) / rowBytes * rowBytes;
        final long commits = ((1L << 26) + batchBytes - 1) / batchBytes;
        assertEquals(commits, json.get("commits").asLong());
        assertEquals(commits * batchBytes, json.get("storeBytes").asLong());
        // One key: the key read is the whole store, and every byte of it was read, block by block.
        assertEquals(json.get("storeBytes").asLong(), json.get("readKeyBytes").asLong());
        assertEquals(json.get("storeBytes").asLong(), json.get("readBytes").asLong());
        assertTrue(json.get("baselineBytes").asLong() > json.get("readBytes").asLong(), "the file has a header");
        assertEquals(2, json.get("readGBps").size());
        assertEquals(2, json.get("baselineGBps").size());
        assertTrue(List.of(PageCache.DROP_CACHES, PageCache.O_DIRECT).contains(json.get("coldBy").asText()));
        assertTrue(json.get("readVsColdSequentialRead").asDouble() > 0);
        assertEquals(16L << 20, json.get("readerMaxMappedBytes").asLong());
        assertEquals(536870912L, json.get("maxHeapBytes").asLong(), 64L << 20);
        assertTrue(json.get("readPeakRssBytes").asLong() > 0);
        assertEquals(Files.readString(out, StandardCharsets.UTF_8).trim(), result.stdoutJson());
        assertFalse(Files.exists(store), "the store is deleted unless --keep");
    }

    @Test
    void shouldRefuseAnExistingDirectoryByName() throws IOException, InterruptedException {
        final Path existing = Files.createDirectory(dir.resolve("existing"));
        final Result result = run("--gib", "0.01", "--dir", existing.toString(), "--out",
            dir.resolve("x.json").toString());
        assertNotEquals(0, result.exitCode());
        assertTrue(result.output().contains(existing + " exists"), result.output());
        assertFalse(Files.exists(dir.resolve("x.json")));
    }

    @Test
    void shouldRefuseAnUnknownOptionByName() throws IOException, InterruptedException {
        final Result result = run("--gigs", "1");
        assertNotEquals(0, result.exitCode());
        assertTrue(result.output().contains("unknown option --gigs"), result.output());
    }

    private record Result(int exitCode, String stdout, String stderr) {
        String output() {
            return stdout + stderr;
        }

        /** @return the JSON block the program prints, from its opening brace to its closing one. */
        String stdoutJson() {
            return stdout.substring(stdout.indexOf("\n{") + 1, stdout.indexOf("\n}") + 2).trim();
        }
    }

    private Result run(final String... args) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.addAll(JvmFlags.forRunningJdk());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(LargerThanRam.class.getName());
        command.addAll(List.of(args));
        final Path stdout = dir.resolve("stdout.txt");
        final Path stderr = dir.resolve("stderr.txt");
        final Process process = new ProcessBuilder(command).redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile()).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("LargerThanRam did not finish in 120 s: " + Files.readString(stderr));
        }
        return new Result(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }
}
