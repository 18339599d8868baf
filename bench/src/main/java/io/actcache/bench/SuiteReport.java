package io.actcache.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The suite's report: {@value #MARKDOWN} (the {@code docs/PERFORMANCE.md}-style tables: every result with its error
 * and throughput, {@link Report}'s ratios and fits, the side-by-side with PyTorch/safetensors, the plots),
 * {@value #JSON} (the same content as data) and the PNG plots ({@link Plots}), all in one directory. Made from
 * JMH's JSON and the side-by-side's JSON alone, so it can be remade from a finished run's files.
 */
public final class SuiteReport {
    /** The Markdown report. */
    public static final String MARKDOWN = "results.md";
    /** The JSON report. */
    public static final String JSON = "results.json";

    private SuiteReport() {
    }

    /**
     * Writes the report.
     *
     * @param jmh   the JMH run.
     * @param peers the side-by-side, or why it was skipped.
     * @param dir   the output directory (it exists and is writable).
     * @return the files written: Markdown, JSON, then the plots.
     * @throws UncheckedIOException naming the file that cannot be written.
     */
    public static List<Path> write(final JmhResults jmh, final PeerResults peers, final Path dir) {
        final List<Measurement> everything = new ArrayList<>(jmh.measurements());
        everything.addAll(peers.measurements());
        final List<Path> plots = Plots.write(everything, dir);
        final String ratios = Report.markdown(jmh.measurements().stream().map(Measurement::row).toList());
        final List<SideBySide.Comparison> comparisons = SideBySide.compare(jmh.measurements(), peers.measurements());
        final Path markdown = dir.resolve(MARKDOWN);
        final Path json = dir.resolve(JSON);
        writeString(markdown, markdown(jmh, peers, ratios, comparisons, plots));
        writeString(json, json(jmh, peers, ratios, comparisons, plots));
        final List<Path> written = new ArrayList<>(List.of(markdown, json));
        written.addAll(plots);
        return written;
    }

    private static String markdown(final JmhResults jmh, final PeerResults peers, final String ratios,
        final List<SideBySide.Comparison> comparisons, final List<Path> plots) {
        final StringBuilder out = new StringBuilder();
        out.append("# actcache bench\n\n");
        machine().forEach((key, value) -> out.append("- ").append(key).append(": ").append(value).append('\n'));
        out.append("- forks' JDK: ").append(jmh.jdk()).append(", JMH ").append(jmh.jmhVersion()).append('\n');
        out.append("\n## JMH results, ratios and fits\n\n");
        out.append("Score: mean; error: half-width of the 99.9% confidence interval (NaN: too few samples); ")
            .append("best sample: least time (most operations) of one sample.\n\n");
        out.append(ratios);
        out.append("\n## Side by side: PyTorch and safetensors on the shapes of MergeBenchmark\n\n");
        if (peers.skipped() != null) {
            out.append("Not measured: ").append(peers.skipped()).append('\n');
        } else {
            out.append("Tools: ").append(peers.tools().toString().replaceAll("[{}]", "")).append("\n\n");
            out.append("| contender | params | mean (s) | error (99.9%) | best sample (s) | throughput |\n");
            out.append("|---|---|---:|---:|---:|---:|\n");
            for (final Measurement m : peers.measurements()) {
                out.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.3f | %.2f GB/s |%n", m.name(),
                    m.paramText(), m.seconds(), m.error() * Measurement.secondsPerTimeUnit(m.unit()),
                    m.best() * Measurement.secondsPerTimeUnit(m.unit()), m.gigabytesPerSecond()));
            }
            out.append("\n| comparison (speed of ours / peer) | params | value | error | of best samples | target "
                + "| met |\n");
            out.append("|---|---|---:|---:|---:|---|---|\n");
            for (final SideBySide.Comparison c : comparisons) {
                out.append(String.format(Locale.ROOT, "| %s [%s / %s] | %s | %.3f | %.3f | %.3f | %s | %s |%n",
                    c.label(), c.ours(), c.peer(), c.params().toString().replaceAll("[{}]", ""), c.value(),
                    c.error(), c.ofBest(), c.target(), c.met()));
            }
            if (comparisons.isEmpty()) {
                out.append("\nNo comparison: no JMH contender ran at the parameters the peers ran at.\n");
            }
        }
        out.append("\n## Plots\n\n");
        for (final Path plot : plots) {
            out.append("![").append(plot.getFileName()).append("](").append(plot.getFileName()).append(")\n");
        }
        if (plots.isEmpty()) {
            out.append("None: no benchmark parameter took two or more numeric values in this run.\n");
        }
        return out.toString();
    }

    private static String json(final JmhResults jmh, final PeerResults peers, final String ratios,
        final List<SideBySide.Comparison> comparisons, final List<Path> plots) {
        final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        final ObjectNode root = mapper.createObjectNode();
        root.put("generated", Instant.now().toString());
        root.set("machine", mapper.valueToTree(machine()));
        root.put("jdk", jmh.jdk());
        root.put("jmhVersion", jmh.jmhVersion());
        final ArrayNode results = root.putArray("results");
        for (final Measurement m : jmh.measurements()) {
            results.add(measurement(mapper, m));
        }
        // Report's tables as data, column by column, whatever ratios and fits it has.
        root.set("tables", mapper.valueToTree(MarkdownTables.parse(ratios)));
        final ObjectNode side = root.putObject("sideBySide");
        side.put("measured", peers.skipped() == null);
        if (peers.skipped() != null) {
            side.put("skipped", peers.skipped());
        }
        side.set("tools", mapper.valueToTree(peers.tools()));
        final ArrayNode peerResults = side.putArray("results");
        for (final Measurement m : peers.measurements()) {
            peerResults.add(measurement(mapper, m));
        }
        side.set("comparisons", mapper.valueToTree(comparisons));
        final ArrayNode files = root.putArray("plots");
        plots.forEach(plot -> files.add(plot.getFileName().toString()));
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode measurement(final ObjectMapper mapper, final Measurement m) {
        final ObjectNode node = mapper.createObjectNode();
        node.put("benchmark", m.name());
        node.set("params", mapper.valueToTree(m.params()));
        node.put("mode", m.mode().shortLabel());
        node.put("score", m.score());
        node.put("error", m.error());
        node.put("best", m.best());
        node.put("unit", m.unit());
        if (m.bytes() != null) {
            node.put("bytesPerOp", m.bytes());
            node.put("gigabytesPerSecond", m.gigabytesPerSecond());
        }
        return node;
    }

    /** @return what the machine is: processors, memory, OS, the host JVM. */
    static Map<String, String> machine() {
        final Map<String, String> machine = new LinkedHashMap<>();
        machine.put("processors", Integer.toString(Runtime.getRuntime().availableProcessors()));
        machine.put("memory", memTotal());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
            + System.getProperty("os.arch"));
        machine.put("host JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        return machine;
    }

    private static String memTotal() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(line -> line.startsWith("MemTotal:"))
                .map(line -> line.substring("MemTotal:".length()).strip()).findFirst().orElse("unknown");
        } catch (final IOException e) {
            return "unknown";
        }
    }

    private static void writeString(final Path file, final String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
