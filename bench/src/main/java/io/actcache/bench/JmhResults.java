package io.actcache.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.openjdk.jmh.annotations.Mode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JMH's JSON result file ({@value BenchMain#RESULT_JSON}) read back generically: every entry becomes a
 * {@link Measurement} by its benchmark name and parameters, so a new benchmark shows up in the suite's tables and
 * plots without code here.
 *
 * @param measurements one per benchmark and parameter set, in file order.
 * @param jdk          the forks' JDK and VM, e.g. {@code 17.0.15 OpenJDK 64-Bit Server VM}, or empty.
 * @param jmhVersion   JMH's version, or empty.
 */
public record JmhResults(List<Measurement> measurements, String jdk, String jmhVersion) {
    /**
     * @param file a JMH JSON result file.
     * @return its results.
     * @throws BenchInputException naming the file when it is missing, not JSON, or not JMH's format.
     */
    public static JmhResults read(final Path file) {
        final JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (final NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BenchInputException("JMH result file " + file + " does not exist", e);
        } catch (final IOException e) {
            throw new BenchInputException("JMH result file " + file + " is not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new BenchInputException("JMH result file " + file + " is not a JSON array of JMH results");
        }
        final List<Measurement> measurements = new ArrayList<>();
        for (final JsonNode entry : root) {
            measurements.add(measurement(file, entry));
        }
        final JsonNode first = root.isEmpty() ? null : root.get(0);
        final String jdk = first == null ? "" : (first.path("jdkVersion").asText() + " "
            + first.path("vmName").asText()).strip();
        return new JmhResults(List.copyOf(measurements), jdk, first == null ? "" : first.path("jmhVersion").asText());
    }

    /** @return true when the file has no results. */
    public boolean isEmpty() {
        return measurements.isEmpty();
    }

    private static Measurement measurement(final Path file, final JsonNode entry) {
        final String benchmark = entry.path("benchmark").asText("");
        final JsonNode primary = entry.path("primaryMetric");
        final int method = benchmark.lastIndexOf('.');
        final int type = benchmark.lastIndexOf('.', method - 1);
        if (method < 0 || !primary.isObject() || !primary.path("score").isNumber()
            || !primary.path("scoreUnit").isTextual()) {
            throw new BenchInputException("JMH result file " + file + ": entry " + shorten(entry)
                + " has no benchmark name, primaryMetric.score or primaryMetric.scoreUnit");
        }
        final String name = benchmark.substring(type + 1);
        final Mode mode;
        try {
            mode = Mode.deepValueOf(entry.path("mode").asText(""));
        } catch (final IllegalStateException | IllegalArgumentException e) {
            throw new BenchInputException("JMH result file " + file + ": benchmark " + name + " has an unknown mode '"
                + entry.path("mode").asText("") + "'", e);
        }
        final Map<String, String> params = new TreeMap<>();
        final Iterator<Map.Entry<String, JsonNode>> fields = entry.path("params").fields();
        while (fields.hasNext()) {
            final Map.Entry<String, JsonNode> field = fields.next();
            params.put(field.getKey(), field.getValue().asText());
        }
        final double score = primary.path("score").asDouble();
        // JMH writes "NaN" as a string when there are too few samples for an interval.
        final double error = primary.path("scoreError").asDouble(Double.NaN);
        final JsonNode percentiles = primary.path("scorePercentiles");
        final String bestKey = mode == Mode.Throughput ? "100.0" : "0.0";
        final double best = percentiles.path(bestKey).isNumber() ? percentiles.path(bestKey).asDouble() : score;
        final String unit = primary.path("scoreUnit").asText();
        final Long bytes = Report.bytesPerOp(new Report.Row(name, params, mode, score, error, unit, best));
        return new Measurement(name.substring(0, name.indexOf('.')), name, params, mode, score, error, unit, best,
            bytes);
    }

    private static String shorten(final JsonNode entry) {
        final String text = entry.toString();
        return text.length() > 120 ? text.substring(0, 120) + "..." : text;
    }
}
