package io.actcache.bench;

import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a JMH run into Markdown: every score with its error, throughput where a benchmark moves a known number
 * of bytes per operation, and the ratios the targets are stated in, all from the one run.
 *
 * <p>A ratio is either a speed ratio of a benchmark to a baseline measured beside it (the best of several
 * baselines when more are named), or a scaling ratio of one benchmark's time at the largest value of a parameter
 * to its time at the smallest. Add a benchmark's ratios to {@link #RATIOS}; results without one are still
 * listed. Each ratio is given of the mean scores (the figure targets are judged on, with its propagated error)
 * and of the best samples, which a machine shared with other work disturbs least.
 */
public final class Report {
    /** Ratios reported when their benchmarks ran. */
    static final List<Ratio> RATIOS = List.of(
        Ratio.speed("CodecBenchmark.rangeRead", List.of("CodecBenchmark.rangeReadRaw"),
            "row-range read of an LZ4 / SHUFFLE_LZ4 column vs the same read of RAW (page cache warm)", 1.0 / 3,
            ">= 0.33 (within 3x)"),
        Ratio.speed("AppendBenchmark.store", List.of("AppendBenchmark.memoryCopy"),
            "append vs baseline 1 (copy into faulted off-heap memory)", 0, "report only"),
        Ratio.speed("AppendBenchmark.store", List.of("AppendBenchmark.channelWrite", "AppendBenchmark.mappedWrite"),
            "append vs baseline 2 (best raw write of a fresh file)", 0.80, ">= 0.80"),
        Ratio.speed("AppendBenchmark.storeSynced", List.of("AppendBenchmark.syncedWrite"),
            "durable append (one FSYNC commit) vs sequential write + fsync", 0, "report only"),
        Ratio.speed("ReadBenchmark.pageCache", List.of("ReadBenchmark.memoryCopy"),
            "read of RAW columns from the page cache vs memory copy", 0.80, ">= 0.80"),
        Ratio.speed("ReadBenchmark.pageCacheReopen", List.of("ReadBenchmark.memoryCopy"),
            "read from the page cache through fresh mappings vs memory copy", 0, "report only"),
        Ratio.speed("ReadBenchmark.cold", List.of("ReadBenchmark.coldSequentialRead"),
            "read of RAW columns from disk vs cold sequential read", 0.80, ">= 0.80"),
        Ratio.speed("ReadBenchmark.cold", List.of("ReadBenchmark.coldColumnFiles"),
            "read from disk vs plain reads of the same column files (cost of mapped reads)", 0, "report only"),
        Ratio.perUnitScaling("ReadBenchmark.pageCache", ReadBenchmark.STORE_MIB,
            "page-cache read, ns per byte at largest / smallest store", 1.25, "flat (<= 1.25)"),
        Ratio.perUnitScaling("ReadBenchmark.cold", ReadBenchmark.STORE_MIB,
            "cold read, ns per byte at largest / smallest store", 0, "report only"),
        Ratio.scaling("OpenBenchmark.openWriter", OpenBenchmark.TOTAL_GIB,
            "writer open+close, time at largest / smallest store", 1.25, "~1 (<= 1.25)"),
        Ratio.scaling("OpenBenchmark.openReadOnly", OpenBenchmark.TOTAL_GIB,
            "read-only open+close, time at largest / smallest store", 1.25, "~1 (<= 1.25)"),
        Ratio.perUnitScaling("OpenBenchmark.openWriter", OpenBenchmark.KEYS,
            "writer open+close, time per key at most / fewest keys", 0, "report only (O(keys): ~1 or less)"),
        Ratio.perUnitScaling("OpenBenchmark.openReadOnly", OpenBenchmark.KEYS,
            "read-only open+close, time per key at most / fewest keys", 0, "report only (O(keys): ~1 or less)"),
        Ratio.speedAt("MergeBenchmark.oursStore", List.of("MergeBenchmark.reference"),
            "merge into a store vs the reference pattern", 20, ">= 20 at batches=128", MergeBenchmark.BATCHES, "128"),
        Ratio.speed("MergeBenchmark.oursStore", List.of("MergeBenchmark.rawAppend"),
            "merge into a store vs raw file append of the same bytes", 0.80, ">= 0.80"),
        Ratio.speed("MergeBenchmark.oursStore", List.of("MergeBenchmark.deferred"),
            "merge into a store vs deferred concatenation on the heap", 0, "report only"),
        Ratio.speed("MergeBenchmark.oursHeap", List.of("MergeBenchmark.reference"),
            "merge into a heap cache vs the reference pattern", 0, "report only"),
        Ratio.perUnitScaling("MergeBenchmark.oursStore", MergeBenchmark.BATCHES,
            "merge into a store, ns per byte at largest / smallest N", 1.20, "flat (<= 1.20)"),
        Ratio.perUnitScaling("MergeBenchmark.oursHeap", MergeBenchmark.BATCHES,
            "merge into a heap cache, ns per byte at largest / smallest N", 0, "report only"),
        Ratio.perUnitScaling("MergeBenchmark.reference", MergeBenchmark.BATCHES,
            "reference pattern, ns per byte at largest / smallest N", 0, "report only (grows with N)"));

    /** Bytes one operation moves, by benchmark class, for the throughput column. */
    static final Map<String, Long> BYTES_PER_OP = Map.of("AppendBenchmark", AppendBenchmark.INVOCATION_BYTES,
        "CodecBenchmark", CodecBenchmark.DATA_BYTES);

    /** Bytes per operation per unit of a parameter, by benchmark class: the bytes scale with that parameter. */
    static final Map<String, Map.Entry<String, Long>> BYTES_PER_PARAM_UNIT = Map.of("MergeBenchmark",
        Map.entry(MergeBenchmark.BATCHES, MergeBenchmark.BATCH_BYTES),
        "ReadBenchmark", Map.entry(ReadBenchmark.STORE_MIB, 1L << 20));

    /** Straight-line fits of time against a parameter, whose intercept (the fixed cost) has a bound. */
    static final List<Fit> FITS = List.of(
        new Fit("OpenBenchmark.openReadOnly", OpenBenchmark.KEYS, "read-only open+close = fixed + per key", 50),
        new Fit("OpenBenchmark.openWriter", OpenBenchmark.KEYS, "writer open+close = fixed + per key", 50));

    private Report() {
    }

    /**
     * @param results a JMH run's results.
     * @return Markdown: a results table and a ratios table.
     */
    public static String markdown(final Collection<RunResult> results) {
        final List<Row> rows = new ArrayList<>();
        results.forEach(result -> rows.add(Row.of(result)));
        return markdown(rows);
    }

    /**
     * @param results rows of a run, e.g. read back from JMH's JSON by {@link JmhResults}.
     * @return Markdown: a results table and a ratios table.
     */
    static String markdown(final List<Row> results) {
        final List<Row> rows = new ArrayList<>(results);
        // Stable: keeps JMH's order of parameter values (numeric where they are numbers) within a benchmark.
        rows.sort(Comparator.comparing(Row::name));
        final StringBuilder out = new StringBuilder();
        out.append("| benchmark | params | mode | score | error (99.9%) | best sample | units | throughput |\n");
        out.append("|---|---|---|---:|---:|---:|---|---:|\n");
        for (final Row row : rows) {
            out.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.3f | %.3f | %s | %s |%n", row.name(),
                row.paramText(), row.mode().shortLabel(), row.score(), row.error(), row.best(), row.unit(),
                throughput(row)));
        }
        out.append("\n| ratio | params | value | error | of best samples | target | met |\n");
        out.append("|---|---|---:|---:|---:|---|---|\n");
        for (final Ratio ratio : RATIOS) {
            ratio.appendTo(out, rows);
        }
        out.append("\n| fit | params | fixed (ms) | error | per unit (ms) | target | met |\n");
        out.append("|---|---|---:|---:|---:|---|---|\n");
        for (final Fit fit : FITS) {
            fit.appendTo(out, rows);
        }
        return out.toString();
    }

    private static String throughput(final Row row) {
        final Long bytes = bytesPerOp(row);
        if (bytes == null || row.mode() == Mode.Throughput) {
            return "";
        }
        final double seconds = row.score() * Row.secondsPerUnit(row.unit());
        return String.format(Locale.ROOT, "%.2f GB/s", bytes / seconds / 1e9);
    }

    /** @return the bytes one operation of the row moves, or null when unknown. */
    static Long bytesPerOp(final Row row) {
        final String type = row.name().substring(0, row.name().indexOf('.'));
        final Map.Entry<String, Long> perUnit = BYTES_PER_PARAM_UNIT.get(type);
        if (perUnit != null && row.params().containsKey(perUnit.getKey())) {
            return Long.parseLong(row.params().get(perUnit.getKey())) * perUnit.getValue();
        }
        return BYTES_PER_OP.get(type);
    }

    /**
     * One benchmark's result.
     *
     * @param name   simple class name and method, e.g. {@code AppendBenchmark.store}.
     * @param params parameter values by name.
     * @param mode   JMH mode.
     * @param score  primary score.
     * @param error  half-width of the 99.9% confidence interval (NaN with too few samples).
     * @param unit   score unit, e.g. {@code ms/op}.
     * @param best   the best sample: the least time per operation (the most operations per time unit).
     */
    record Row(String name, Map<String, String> params, Mode mode, double score, double error, String unit,
        double best) {
        static Row of(final RunResult result) {
            final BenchmarkParams params = result.getParams();
            final String benchmark = params.getBenchmark();
            final int method = benchmark.lastIndexOf('.');
            final int type = benchmark.lastIndexOf('.', method - 1);
            final Map<String, String> values = new TreeMap<>();
            for (final String key : params.getParamsKeys()) {
                values.put(key, params.getParam(key));
            }
            final Result<?> primary = result.getPrimaryResult();
            final double best = params.getMode() == Mode.Throughput ? primary.getStatistics().getMax()
                : primary.getStatistics().getMin();
            return new Row(benchmark.substring(type + 1), values, params.getMode(), primary.getScore(),
                primary.getScoreError(), primary.getScoreUnit(), best);
        }

        String paramText() {
            return params.isEmpty() ? "" : params.toString().replaceAll("[{}]", "");
        }

        /** @return the time-per-operation of this row in the units of {@code other}'s score. */
        double timeIn(final Row other) {
            return score * secondsPerUnit(unit) / secondsPerUnit(other.unit);
        }

        /** @return the best sample's time-per-operation in the units of {@code other}'s score. */
        double bestTimeIn(final Row other) {
            return best * secondsPerUnit(unit) / secondsPerUnit(other.unit);
        }

        static double secondsPerUnit(final String unit) {
            final String time = unit.substring(0, unit.indexOf('/'));
            switch (time) {
                case "s": return 1;
                case "ms": return 1e-3;
                case "us": return 1e-6;
                case "ns": return 1e-9;
                default: throw new IllegalArgumentException("not a time unit: " + unit);
            }
        }
    }

    /**
     * A ratio the targets are stated in.
     *
     * @param name      the benchmark of the numerator.
     * @param others    baselines (speed ratio, the best is used) or empty (scaling ratio).
     * @param param     the parameter a scaling ratio spans, or null.
     * @param label     what the ratio means.
     * @param limit     bound the value must meet: a minimum for a speed ratio, a maximum for a scaling ratio; 0 for
     *                  none.
     * @param target    the target as text.
     * @param limitAt   parameter values the limit applies at (empty: every row).
     * @param perUnit   whether a scaling ratio divides each time by its parameter value.
     */
    record Ratio(String name, List<String> others, String param, boolean perUnit, String label, double limit,
        String target, Map<String, String> limitAt) {
        static Ratio speed(final String name, final List<String> baselines, final String label, final double min,
            final String target) {
            return new Ratio(name, baselines, null, false, label, min, target, Map.of());
        }

        /** A speed ratio whose minimum applies only at the given parameter value; other rows are reported only. */
        static Ratio speedAt(final String name, final List<String> baselines, final String label, final double min,
            final String target, final String param, final String value) {
            return new Ratio(name, baselines, null, false, label, min, target, Map.of(param, value));
        }

        static Ratio scaling(final String name, final String param, final String label, final double max,
            final String target) {
            return new Ratio(name, List.of(), param, false, label, max, target, Map.of());
        }

        /** A scaling ratio of time per unit of the parameter (e.g. per batch), for work that grows with it. */
        static Ratio perUnitScaling(final String name, final String param, final String label, final double max,
            final String target) {
            return new Ratio(name, List.of(), param, true, label, max, target, Map.of());
        }

        void appendTo(final StringBuilder out, final List<Row> rows) {
            for (final Row row : rows) {
                if (row.name().equals(name) && row.mode() != Mode.Throughput) {
                    if (param == null) {
                        appendSpeed(out, row, rows);
                    } else {
                        appendScaling(out, row, rows);
                    }
                }
            }
        }

        private void appendSpeed(final StringBuilder out, final Row ours, final List<Row> rows) {
            Row best = null;
            double bestSample = Double.MAX_VALUE;
            for (final Row row : rows) {
                // A baseline matches when ours shares each of its parameters (ours may have more, e.g. storage).
                if (others.contains(row.name()) && ours.params().entrySet().containsAll(row.params().entrySet())) {
                    if (best == null || row.timeIn(ours) < best.timeIn(ours)) {
                        best = row;
                    }
                    bestSample = Math.min(bestSample, row.bestTimeIn(ours));
                }
            }
            if (best != null) {
                // Speed of ours relative to the baseline: the inverse ratio of times per operation.
                final double value = best.timeIn(ours) / ours.score();
                final double ofBest = bestSample / ours.best();
                append(out, label + " [" + best.name() + "]", ours, value, error(value, ours, best), ofBest,
                    value >= limit);
            }
        }

        private void appendScaling(final StringBuilder out, final Row row, final List<Row> rows) {
            Row smallest = null;
            Row largest = null;
            for (final Row other : rows) {
                if (other.name().equals(name) && sameExcept(other, row)) {
                    final double size = Double.parseDouble(other.params().get(param));
                    if (smallest == null || size < Double.parseDouble(smallest.params().get(param))) {
                        smallest = other;
                    }
                    if (largest == null || size > Double.parseDouble(largest.params().get(param))) {
                        largest = other;
                    }
                }
            }
            if (row == largest && smallest != largest) {
                // Per unit of the parameter: divide each time by its parameter value.
                final double units = perUnit ? Double.parseDouble(largest.params().get(param))
                    / Double.parseDouble(smallest.params().get(param)) : 1;
                final double value = largest.timeIn(smallest) / smallest.score() / units;
                final double ofBest = largest.bestTimeIn(smallest) / smallest.best() / units;
                final String span = param + " " + largest.params().get(param) + "/" + smallest.params().get(param);
                append(out, label + " [" + span + "]", row, value, error(value, largest, smallest), ofBest,
                    value <= limit);
            }
        }

        private boolean sameExcept(final Row a, final Row b) {
            final Map<String, String> left = new TreeMap<>(a.params());
            final Map<String, String> right = new TreeMap<>(b.params());
            left.remove(param);
            right.remove(param);
            return left.equals(right);
        }

        private void append(final StringBuilder out, final String text, final Row row, final double value,
            final double error, final double ofBest, final boolean met) {
            final Map<String, String> rest = new TreeMap<>(row.params());
            if (param != null) {
                rest.remove(param);
            }
            out.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.3f | %s | %s |%n", text,
                rest.isEmpty() ? "" : rest.toString().replaceAll("[{}]", ""), value, error, ofBest, target,
                limit == 0 || !judgedAt(row) ? "-" : met ? "yes" : "NO"));
        }

        private boolean judgedAt(final Row row) {
            return limitAt.entrySet().stream().allMatch(e -> e.getValue().equals(row.params().get(e.getKey())));
        }

        /** First-order propagation of both relative errors (each a 99.9% half-width). */
        private static double error(final double value, final Row a, final Row b) {
            final double ra = a.error() / a.score();
            final double rb = b.error() / b.score();
            return value * Math.sqrt(ra * ra + rb * rb);
        }
    }

    /**
     * The straight line {@code time = fixed + perUnit * param} through a benchmark's scores at the smallest and
     * largest value of a parameter, other parameters equal; targets like "under 50 ms plus O(keys)" bound the
     * intercept.
     *
     * @param name     the benchmark.
     * @param param    the parameter on the x axis, e.g. the key count.
     * @param label    what the fit means.
     * @param maxFixed bound on the intercept, milliseconds.
     */
    record Fit(String name, String param, String label, double maxFixed) {
        void appendTo(final StringBuilder out, final List<Row> rows) {
            for (final Row small : rows) {
                if (!small.name().equals(name) || small.mode() == Mode.Throughput) {
                    continue;
                }
                Row large = null;
                for (final Row other : rows) {
                    if (other.name().equals(name) && sameExcept(other, small)
                        && x(other) > x(small) && (large == null || x(other) > x(large))) {
                        large = other;
                    }
                }
                if (large != null && isSmallest(small, rows)) {
                    append(out, small, large);
                }
            }
        }

        private boolean isSmallest(final Row row, final List<Row> rows) {
            return rows.stream().noneMatch(other -> other.name().equals(name) && sameExcept(other, row)
                && x(other) < x(row));
        }

        private void append(final StringBuilder out, final Row small, final Row large) {
            final double ms = Row.secondsPerUnit(small.unit()) / 1e-3;
            final double t1 = small.score() * ms;
            final double t2 = large.timeIn(small) * ms;
            final double e1 = small.error() * ms;
            final double e2 = large.error() * Row.secondsPerUnit(large.unit()) / 1e-3;
            final double x1 = x(small);
            final double x2 = x(large);
            final double perUnit = (t2 - t1) / (x2 - x1);
            final double fixed = t1 - perUnit * x1;
            // fixed = (t1 x2 - t2 x1) / (x2 - x1): first-order propagation of both 99.9% half-widths.
            final double error = Math.hypot(e1 * x2, e2 * x1) / (x2 - x1);
            final Map<String, String> rest = new TreeMap<>(small.params());
            rest.remove(param);
            out.append(String.format(Locale.ROOT, "| %s [%s %s..%s] | %s | %.3f | %.3f | %.6f | < %.0f ms | %s |%n",
                label, param, small.params().get(param), large.params().get(param),
                rest.toString().replaceAll("[{}]", ""), fixed, error, perUnit, maxFixed,
                fixed < maxFixed ? "yes" : "NO"));
        }

        private double x(final Row row) {
            return Double.parseDouble(row.params().get(param));
        }

        private boolean sameExcept(final Row a, final Row b) {
            final Map<String, String> left = new TreeMap<>(a.params());
            final Map<String, String> right = new TreeMap<>(b.params());
            left.remove(param);
            right.remove(param);
            return left.equals(right);
        }
    }
}
