package io.actcache.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.util.ListStatistics;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The side-by-side with the tools users have today ({@code bench/python/side_by_side.py}), read from its JSON, or
 * the reason it was not measured. Each contender becomes a {@link Measurement} named {@code PyTorch.<name>} in
 * the group of the benchmark it was timed beside, with JMH's statistics (mean, 99.9% error) of its samples.
 *
 * @param measurements the contenders, in file order; empty when skipped.
 * @param tools        tool versions (python, torch, safetensors, ...); empty when skipped.
 * @param skipped      why the side-by-side did not run, or null when it did.
 */
public record PeerResults(List<Measurement> measurements, Map<String, String> tools, String skipped) {
    /** Prefix of the contenders' names. */
    public static final String PREFIX = "PyTorch.";

    /**
     * @param reason why the side-by-side was not measured, for the report.
     * @return results saying so.
     */
    public static PeerResults skipped(final String reason) {
        return new PeerResults(List.of(), Map.of(), reason);
    }

    /**
     * @param file the script's JSON output.
     * @return its contenders.
     * @throws BenchInputException naming the file when it cannot be read or is not the script's format.
     */
    public static PeerResults read(final Path file) {
        final JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (final IOException e) {
            throw new BenchInputException("side-by-side result file " + file + " cannot be read as JSON: "
                + e.getMessage(), e);
        }
        if (root == null || !root.path("results").isArray() || !root.path("compare_with").isTextual()) {
            throw new BenchInputException("side-by-side result file " + file
                + " has no 'results' array or no 'compare_with' benchmark");
        }
        final String group = root.path("compare_with").asText();
        final List<Measurement> measurements = new ArrayList<>();
        for (final JsonNode entry : root.path("results")) {
            measurements.add(measurement(file, group, entry));
        }
        final Map<String, String> tools = new LinkedHashMap<>();
        root.path("tool").fields().forEachRemaining(field -> tools.put(field.getKey(), field.getValue().asText()));
        return new PeerResults(List.copyOf(measurements), Map.copyOf(tools), null);
    }

    private static Measurement measurement(final Path file, final String group, final JsonNode entry) {
        final JsonNode samples = entry.path("samples");
        if (!entry.path("name").isTextual() || !samples.isArray() || samples.isEmpty()
            || !entry.path("bytes").canConvertToLong()) {
            throw new BenchInputException("side-by-side result file " + file + ": entry " + entry
                + " needs a name, a non-empty samples array and bytes");
        }
        final ListStatistics statistics = new ListStatistics();
        for (final JsonNode sample : samples) {
            statistics.addValue(sample.asDouble());
        }
        final Map<String, String> params = new TreeMap<>();
        final Iterator<Map.Entry<String, JsonNode>> fields = entry.path("params").fields();
        while (fields.hasNext()) {
            final Map.Entry<String, JsonNode> field = fields.next();
            params.put(field.getKey(), field.getValue().asText());
        }
        final double error = statistics.getN() > 2 ? statistics.getMeanErrorAt(0.999) : Double.NaN;
        return new Measurement(group, PREFIX + entry.path("name").asText(), params, Mode.SingleShotTime,
            statistics.getMean(), error, entry.path("unit").asText("s/op"), statistics.getMin(),
            entry.path("bytes").asLong());
    }
}
