package io.actcache.bench;

import org.openjdk.jmh.annotations.Mode;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One measured contender at one set of parameters, from JMH ({@link JmhResults}) or from the Python side-by-side
 * ({@link PeerResults}): what the suite's tables and plots are made of.
 *
 * @param group  the benchmark class the measurement belongs with, e.g. {@code MergeBenchmark}; peers measured on
 *               the same shapes name the class they compare with, so they share its plots.
 * @param name   the contender: {@code group.method} for JMH, {@code PyTorch.method} for peers.
 * @param params parameter values by name.
 * @param mode   JMH mode ({@link Mode#SingleShotTime} for peers: one whole operation per sample).
 * @param score  mean score.
 * @param error  half-width of the 99.9% confidence interval; NaN with too few samples.
 * @param unit   score unit, e.g. {@code ms/op} or {@code ops/s}.
 * @param best   the best sample: least time per operation, most operations per time unit.
 * @param bytes  bytes one operation moves, or null when unknown (then no throughput).
 */
public record Measurement(String group, String name, Map<String, String> params, Mode mode, double score,
    double error, String unit, double best, Long bytes) {
    /** Copies the parameters into a sorted, unmodifiable map. */
    public Measurement {
        params = java.util.Collections.unmodifiableMap(new TreeMap<>(params));
    }

    /** @return the method part of {@link #name()}, e.g. {@code oursStore}. */
    public String method() {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** @return whether the score is a time per operation (not operations per time). */
    public boolean isTime() {
        return mode != Mode.Throughput;
    }

    /** @return seconds per operation of the mean score; only for {@link #isTime()}. */
    public double seconds() {
        return score * secondsPerTimeUnit(unit);
    }

    /** @return GB/s (1e9 bytes) of the mean score, or NaN when bytes or time per operation are unknown. */
    public double gigabytesPerSecond() {
        return bytes == null || !isTime() ? Double.NaN : bytes / seconds() / 1e9;
    }

    /** @return the error of {@link #gigabytesPerSecond()}, to first order (same relative error as the time). */
    public double gigabytesPerSecondError() {
        return gigabytesPerSecond() * error / score;
    }

    /** @return the row {@link Report} computes ratios from. */
    Report.Row row() {
        return new Report.Row(name, params, mode, score, error, unit, best);
    }

    /** @return the parameters as {@code a=1, b=2}, or an empty string. */
    public String paramText() {
        return params.isEmpty() ? "" : params.toString().replaceAll("[{}]", "");
    }

    /**
     * @param unit a JMH score unit such as {@code ms/op}.
     * @return seconds per unit of its time part.
     * @throws IllegalArgumentException naming the unit when it has no time part ({@code ops/ms} has none first).
     */
    public static double secondsPerTimeUnit(final String unit) {
        final String time = unit.substring(0, Math.max(0, unit.indexOf('/'))).toLowerCase(Locale.ROOT);
        switch (time) {
            case "s": return 1;
            case "ms": return 1e-3;
            case "us": return 1e-6;
            case "ns": return 1e-9;
            default: throw new IllegalArgumentException("not a time-per-operation unit: " + unit);
        }
    }
}
