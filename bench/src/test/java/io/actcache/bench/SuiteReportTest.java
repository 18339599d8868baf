package io.actcache.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The suite's report made from real output: {@code captured/jmh-result.json} and {@code captured/side-by-side.json}
 * are the files a JMH smoke run and {@code bench/python/side_by_side.py} wrote (see {@code captured/README.md}).
 * Every expectation is derived from those files, read here independently of the code under test.
 */
class SuiteReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static Path captured(final String name) {
        try {
            return Path.of(SuiteReportTest.class.getResource("/captured/" + name).toURI());
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void markdownHasARowPerResultAndPerPeerAndTheComparisons() throws IOException {
        SuiteReport.write(JmhResults.read(captured("jmh-result.json")), PeerResults.read(captured("side-by-side.json")),
            dir);
        final String md = Files.readString(dir.resolve(SuiteReport.MARKDOWN));
        final JsonNode jmh = JSON.readTree(captured("jmh-result.json").toFile());
        for (final JsonNode entry : jmh) {
            final String name = simpleName(entry.get("benchmark").asText());
            final String row = "| " + name + " | " + paramText(entry.get("params")) + " | "
                + entry.get("mode").asText() + " | "
                + String.format(Locale.ROOT, "%.3f", entry.get("primaryMetric").get("score").asDouble()) + " |";
            assertTrue(md.contains(row), "no row " + row + " in\n" + md);
        }
        final JsonNode peers = JSON.readTree(captured("side-by-side.json").toFile());
        for (final JsonNode entry : peers.get("results")) {
            final double mean = mean(entry.get("samples"));
            final String row = "| PyTorch." + entry.get("name").asText() + " | " + paramText(entry.get("params"))
                + " | " + String.format(Locale.ROOT, "%.3f", mean) + " |";
            assertTrue(md.contains(row), "no row " + row + " in\n" + md);
        }
        // oursStore ran at batches 2 and 4 on tmpfs, as did the peers: a comparison per pair and N.
        for (final String batches : List.of("2", "4")) {
            final double ours = score(jmh, "MergeBenchmark.oursStore", batches);
            final double reference = mean(peerSamples(peers, "reference", batches));
            final String expected = String.format(Locale.ROOT, "| %.3f |", reference / ours);
            assertTrue(md.lines().anyMatch(line -> line.contains("[MergeBenchmark.oursStore / PyTorch.reference]")
                && line.contains("batches=" + batches) && line.contains(expected)),
                "no comparison of oursStore with PyTorch.reference at batches=" + batches + " of " + expected
                    + " in\n" + md);
        }
        assertTrue(md.contains("merge into a store vs the reference pattern"), "Report's ratios are missing:\n" + md);
    }

    @Test
    void jsonParsesAndCarriesEveryResult() throws IOException {
        SuiteReport.write(JmhResults.read(captured("jmh-result.json")), PeerResults.read(captured("side-by-side.json")),
            dir);
        final JsonNode report = JSON.readTree(dir.resolve(SuiteReport.JSON).toFile());
        final JsonNode jmh = JSON.readTree(captured("jmh-result.json").toFile());
        assertEquals(jmh.size(), report.get("results").size());
        for (int i = 0; i < jmh.size(); i++) {
            assertEquals(simpleName(jmh.get(i).get("benchmark").asText()), report.get("results").get(i)
                .get("benchmark").asText());
            assertEquals(jmh.get(i).get("primaryMetric").get("score").asDouble(),
                report.get("results").get(i).get("score").asDouble());
        }
        final JsonNode side = report.get("sideBySide");
        assertTrue(side.get("measured").asBoolean());
        assertEquals(JSON.readTree(captured("side-by-side.json").toFile()).get("results").size(),
            side.get("results").size());
        assertFalse(side.get("comparisons").isEmpty(), "no comparisons in " + side);
        assertTrue(report.get("tables").size() >= 2, "Report's tables are missing: " + report.get("tables"));
        assertEquals(JSON.readTree(captured("side-by-side.json").toFile()).get("tool").get("torch").asText(),
            side.get("tools").get("torch").asText());
    }

    @Test
    void plotsExistAndDecodeForEveryParameterWithSeveralValues() throws IOException {
        final List<Path> written = SuiteReport.write(JmhResults.read(captured("jmh-result.json")),
            PeerResults.read(captured("side-by-side.json")), dir);
        final List<Path> plots = written.stream().filter(p -> p.toString().endsWith(".png")).toList();
        // Both benchmark classes ran at two numeric values of a parameter, and both move known bytes.
        assertEquals(List.of(dir.resolve("AppendBenchmark-batchKiB-throughput.png"),
            dir.resolve("MergeBenchmark-batches-throughput.png")), plots);
        for (final Path plot : plots) {
            assertTrue(Files.size(plot) > 0, plot + " is empty");
            final BufferedImage image;
            try (InputStream in = Files.newInputStream(plot)) {
                image = ImageIO.read(in);
            }
            assertNotNull(image, plot + " is not an image ImageIO can read");
            assertTrue(image.getWidth() > 0 && image.getHeight() > 0, plot + " has no pixels");
        }
        final JsonNode report = JSON.readTree(dir.resolve(SuiteReport.JSON).toFile());
        assertEquals(2, report.get("plots").size());
        final String md = Files.readString(dir.resolve(SuiteReport.MARKDOWN));
        assertTrue(md.contains("![MergeBenchmark-batches-throughput.png](MergeBenchmark-batches-throughput.png)"));
    }

    @Test
    void aSkippedSideBySideIsSaidNotFailed() throws IOException {
        SuiteReport.write(JmhResults.read(captured("jmh-result.json")),
            PeerResults.skipped("python3 cannot 'import torch'"), dir);
        assertTrue(Files.readString(dir.resolve(SuiteReport.MARKDOWN))
            .contains("Not measured: python3 cannot 'import torch'"));
        final JsonNode side = JSON.readTree(dir.resolve(SuiteReport.JSON).toFile()).get("sideBySide");
        assertFalse(side.get("measured").asBoolean());
        assertEquals("python3 cannot 'import torch'", side.get("skipped").asText());
        assertTrue(side.get("comparisons").isEmpty());
    }

    @Test
    void badResultFilesAreNamed() throws IOException {
        final Path missing = dir.resolve("none.json");
        assertTrue(assertThrows(BenchInputException.class, () -> JmhResults.read(missing)).getMessage()
            .contains(missing.toString()));
        final Path notJson = Files.writeString(dir.resolve("garbage.json"), "{ not json");
        assertTrue(assertThrows(BenchInputException.class, () -> JmhResults.read(notJson)).getMessage()
            .contains(notJson.toString()));
        final Path noMetric = Files.writeString(dir.resolve("nometric.json"),
            "[{\"benchmark\": \"io.actcache.bench.X.y\", \"mode\": \"avgt\"}]");
        final String message = assertThrows(BenchInputException.class, () -> JmhResults.read(noMetric)).getMessage();
        assertTrue(message.contains(noMetric.toString()) && message.contains("primaryMetric"), message);
        final Path badPeers = Files.writeString(dir.resolve("peers.json"), "{\"results\": 3}");
        assertTrue(assertThrows(BenchInputException.class, () -> PeerResults.read(badPeers)).getMessage()
            .contains(badPeers.toString()));
    }

    private static String simpleName(final String benchmark) {
        final String[] parts = benchmark.split("\\.");
        return parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    private static String paramText(final JsonNode params) {
        final Map<String, String> sorted = new TreeMap<>();
        if (params != null) {
            params.fields().forEachRemaining(f -> sorted.put(f.getKey(), f.getValue().asText()));
        }
        return sorted.isEmpty() ? "" : sorted.toString().replaceAll("[{}]", "");
    }

    private static double mean(final JsonNode samples) {
        double sum = 0;
        for (final JsonNode sample : samples) {
            sum += sample.asDouble();
        }
        return sum / samples.size();
    }

    private static double score(final JsonNode jmh, final String name, final String batches) {
        for (final JsonNode entry : jmh) {
            if (simpleName(entry.get("benchmark").asText()).equals(name)
                && entry.get("params").get("batches").asText().equals(batches)) {
                return entry.get("primaryMetric").get("score").asDouble();
            }
        }
        throw new AssertionError("no " + name + " at batches=" + batches + " in the captured run");
    }

    private static JsonNode peerSamples(final JsonNode peers, final String name, final String batches) {
        final List<JsonNode> found = new ArrayList<>();
        peers.get("results").forEach(entry -> {
            if (entry.get("name").asText().equals(name) && entry.get("params").get("batches").asText().equals(batches)) {
                found.add(entry.get("samples"));
            }
        });
        assertEquals(1, found.size(), name + " at batches=" + batches);
        return found.get(0);
    }
}
