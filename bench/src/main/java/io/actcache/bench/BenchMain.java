package io.actcache.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Main class of {@code bench/target/benchmarks.jar}: JMH's command line, plus the actcache JVM flags appended to
 * every forked JVM ({@link JvmFlags}), a {@value #QUICK} profile, and the ratio table ({@link Report}) printed
 * and written after the run.
 *
 * <p>Accepts every JMH option ({@code -h} lists them). {@value #QUICK} runs one fork with fewer iterations
 * ({@link QuickGroups}: at most 2 warm-up and 4 measured, never more than a benchmark's own), smaller stores (1 and
 * 2 GiB to open, 256 and 1024 MiB to read), appends of 64 KiB and 4 MiB batches, merges of 16 and 64 batches on
 * tmpfs and one codec configuration per codec, for a smoke check in a few minutes; any option given explicitly
 * still wins. Results go to {@value #RESULT_JSON} and {@value #RATIOS_MD} in the directory named by the system
 * property {@value #OUT_PROPERTY} (default: the working directory) unless {@code -rff} names a file. Stores built
 * for {@link OpenBenchmark} are deleted at the end unless {@value #KEEP_PROPERTY} is true. With {@value #SUITE}
 * first, the rest of the command line goes to {@link BenchSuite} ({@code actcache bench}).
 */
public final class BenchMain {
    /** Argument selecting the quick profile. */
    public static final String QUICK = "--quick";
    /** System property naming the output directory. */
    public static final String OUT_PROPERTY = "actcache.bench.out";
    /** JMH's JSON results. */
    public static final String RESULT_JSON = "jmh-result.json";
    /** System property: {@code true} keeps the stores {@link OpenBenchmark} built, for the next run. */
    public static final String KEEP_PROPERTY = "actcache.bench.keepStores";
    /** The ratio table, Markdown. */
    public static final String RATIOS_MD = "jmh-ratios.md";
    /** Name of the parameter choosing disk or tmpfs ({@link BenchFiles#DISK}, {@link BenchFiles#MEMORY}). */
    public static final String STORAGE = "storage";
    /** First argument that runs the suite ({@link BenchSuite}, what {@code bin/actcache bench} starts) instead. */
    public static final String SUITE = "--suite";

    private BenchMain() {
    }

    /**
     * @param args JMH options, optionally {@value #QUICK}.
     * @throws CommandLineOptionException when JMH rejects an option.
     * @throws RunnerException            when a benchmark fails.
     * @throws IOException                when the results cannot be written.
     */
    public static void main(final String[] args) throws CommandLineOptionException, RunnerException, IOException {
        if (args.length > 0 && args[0].equals(SUITE)) {
            BenchSuite.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        final List<String> jmhArgs = new ArrayList<>(Arrays.asList(args));
        final CommandLineOptions cli = new CommandLineOptions(jmhArgs.stream().filter(a -> !a.equals(QUICK))
            .toArray(String[]::new));
        if (cli.shouldHelp() || cli.shouldList() || cli.shouldListWithParams() || cli.shouldListProfilers()
            || cli.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(jmhArgs.stream().filter(a -> !a.equals(QUICK)).toArray(String[]::new));
            return;
        }
        run(jmhArgs, Path.of(System.getProperty(OUT_PROPERTY, ".")));
    }

    /**
     * Runs JMH, then writes and prints the ratio table.
     *
     * @param args JMH options, optionally {@value #QUICK}.
     * @param out  the directory for {@value #RESULT_JSON} and {@value #RATIOS_MD} (created when missing).
     * @return the results of the benchmarks that finished.
     * @throws CommandLineOptionException when JMH rejects an option.
     * @throws RunnerException            when JMH cannot run.
     * @throws IOException                when the results cannot be written.
     */
    public static Collection<RunResult> run(final List<String> args, final Path out)
        throws CommandLineOptionException, RunnerException, IOException {
        final List<String> jmhArgs = new ArrayList<>(args);
        final boolean quick = jmhArgs.remove(QUICK);
        final CommandLineOptions cli = new CommandLineOptions(jmhArgs.toArray(new String[0]));
        Files.createDirectories(out);
        // Without the quick profile's per-benchmark iteration counts (or with counts given), one JMH run.
        final List<QuickGroups.Group> groups = quick && !cli.getWarmupIterations().hasValue()
            && !cli.getMeasurementIterations().hasValue() ? QuickGroups.of(cli) : List.of();
        final List<RunResult> results = new ArrayList<>();
        final Path part = Files.createTempFile(out, "jmh-part-", ".json");
        try {
            if (groups.isEmpty()) {
                results.addAll(new Runner(options(cli, quick, part, null, List.of())).run());
            }
            for (final QuickGroups.Group group : groups) {
                results.addAll(new Runner(options(cli, quick, part, group, QuickGroups.others(groups, group))).run());
            }
        } finally {
            Files.deleteIfExists(part);
            if (!Boolean.getBoolean(KEEP_PROPERTY)) {
                BenchFiles.deleteTree(OpenBenchmark.storesRoot());
            }
        }
        // The results of every run in one file, where -rff names it or else in out, as JMH would write it.
        final String resultFile = cli.getResult().orElse(out.resolve(RESULT_JSON).toString());
        ResultFormatFactory.getInstance(cli.getResultFormat().orElse(ResultFormatType.JSON), resultFile)
            .writeOut(results);
        System.out.println("Results of every run: " + resultFile);
        final String ratios = Report.markdown(results);
        System.out.println();
        System.out.println(ratios);
        Files.writeString(out.resolve(RATIOS_MD), ratios, StandardCharsets.UTF_8);
        return results;
    }

    /**
     * @param part   where this run's own result file goes (the caller writes the combined file).
     * @param group  the quick profile's group this run is, or null.
     * @param others benchmarks of the other groups, excluded from this run.
     */
    private static org.openjdk.jmh.runner.options.Options options(final CommandLineOptions cli, final boolean quick,
        final Path part, final QuickGroups.Group group, final List<String> others) {
        final List<String> jvmArgs = new ArrayList<>(cli.getJvmArgsAppend().orElse(List.of()));
        jvmArgs.addAll(JvmFlags.forRunningJdk());
        final ChainedOptionsBuilder builder = new OptionsBuilder().parent(cli)
            .jvmArgsAppend(jvmArgs.toArray(new String[0]))
            .result(part.toString()).resultFormat(ResultFormatType.JSON);
        for (final String other : others) {
            builder.exclude("^" + Pattern.quote(other) + "$");
        }
        if (group != null) {
            builder.warmupIterations(group.warmups()).measurementIterations(group.measurements());
        }
        if (quick) {
            if (!cli.getForkCount().hasValue()) {
                builder.forks(1);
            }
            if (!cli.getParameter(OpenBenchmark.TOTAL_GIB).hasValue()) {
                builder.param(OpenBenchmark.TOTAL_GIB, "1", "2");
            }
            if (!cli.getParameter(ReadBenchmark.STORE_MIB).hasValue()) {
                builder.param(ReadBenchmark.STORE_MIB, "256", "1024");
            }
            if (!cli.getParameter(AppendBenchmark.BATCH_KIB).hasValue()) {
                builder.param(AppendBenchmark.BATCH_KIB, "64", "4096");
            }
            // CodecBenchmark's 54 parameter combinations take ~20 minutes; its smoke subset is one of them.
            final String defaultBlockKiB =
                Integer.toString(io.actcache.codec.BlockFileDescriptor.DEFAULT_BLOCK_SIZE >> 10);
            for (final String[] codec : new String[][] {{"blockKiB", defaultBlockKiB}, {"kind", "attn"},
                {"dtype", "F32"}}) {
                if (!cli.getParameter(codec[0]).hasValue()) {
                    builder.param(codec[0], codec[1]);
                }
            }
            // N = 64 is where issue 9's merge targets are judged; tmpfs keeps the disk's writeback out of it.
            if (!cli.getParameter(MergeBenchmark.BATCHES).hasValue()) {
                builder.param(MergeBenchmark.BATCHES, "16", "64");
            }
            if (!cli.getParameter(STORAGE).hasValue()) {
                builder.param(STORAGE, BenchFiles.MEMORY);
            }
        }
        return builder.build();
    }
}
