package io.actcache.bench;

import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The quick profile's iteration counts: at most {@value #WARMUP} warm-up and {@value #MEASUREMENT} measured
 * iterations, and never more than a benchmark's own annotations ask for. A benchmark that declares itself too slow
 * to warm up (the reference merge: minutes an invocation at large N) keeps its 0 warm-ups. JMH takes iteration
 * counts per run, not per benchmark, so the benchmarks are grouped by their counts and each group is one run.
 */
final class QuickGroups {
    /** Most warm-up iterations in the quick profile. */
    static final int WARMUP = 2;
    /** Most measured iterations in the quick profile. */
    static final int MEASUREMENT = 4;

    private QuickGroups() {
    }

    /**
     * Benchmarks run with the same iteration counts.
     *
     * @param warmups      warm-up iterations.
     * @param measurements measured iterations.
     * @param members      benchmark names, e.g. {@code io.actcache.bench.MergeBenchmark.reference}.
     */
    record Group(int warmups, int measurements, List<String> members) {
    }

    /**
     * @param cli JMH's command line, for its includes and excludes.
     * @return the benchmarks the command line selects, grouped; empty when it selects none.
     */
    static List<Group> of(final CommandLineOptions cli) {
        final List<String> includes = cli.getIncludes().isEmpty() ? List.of(".*") : cli.getIncludes();
        final PrintStream silent = new PrintStream(OutputStream.nullOutputStream());
        final Map<List<Integer>, List<String>> byCounts = new LinkedHashMap<>();
        for (final BenchmarkListEntry entry : BenchmarkList.defaultList()
            .find(OutputFormatFactory.createFormatInstance(silent, VerboseMode.SILENT), includes, cli.getExcludes())) {
            final int warmups = Math.min(WARMUP, entry.getWarmupIterations().orElse(WARMUP));
            final int measurements = Math.min(MEASUREMENT, entry.getMeasurementIterations().orElse(MEASUREMENT));
            byCounts.computeIfAbsent(List.of(warmups, measurements), counts -> new ArrayList<>())
                .add(entry.getUsername());
        }
        final List<Group> groups = new ArrayList<>();
        byCounts.forEach((counts, members) -> groups.add(new Group(counts.get(0), counts.get(1), members)));
        return groups;
    }

    /**
     * @param groups every group of the run.
     * @param group  one of them.
     * @return the members of the other groups, which the run of {@code group} excludes.
     */
    static List<String> others(final List<Group> groups, final Group group) {
        final List<String> others = new ArrayList<>();
        groups.stream().filter(g -> g != group).forEach(g -> others.addAll(g.members()));
        return others;
    }
}
