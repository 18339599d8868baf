package io.actcache.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.VerboseMode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code actcache bench}: runs the JMH benchmarks, then the side-by-side with PyTorch/safetensors on the shapes
 * {@link MergeBenchmark} ran at, and writes the report ({@link SuiteReport}: results.md, results.json, PNG plots).
 * {@code bin/actcache bench} starts it from {@code bench/target/benchmarks.jar} (built on first use) through
 * {@link BenchMain}; JMH's forks get the pom's JVM flags there.
 *
 * <p>Exit status: 0 done, 1 bad input (the message names the option, filter or directory at fault; nothing was
 * run or written), 3 a benchmark run or a report file failed.
 */
@Command(name = "actcache bench",
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Run the performance suite and write its tables and plots.",
    description = {
        "",
        "Runs the JMH benchmarks (every figure beside its baselines in the same run), then, when python3 can import "
            + "torch and safetensors (installed offline from the local wheel folders on first use), the same merges "
            + "in PyTorch and safetensors, and writes results.md, results.json and PNG plots to the output "
            + "directory. --quick is a smoke subset of several minutes; a full run of every benchmark takes about an "
            + "hour and a quarter on 2 cores (--filter runs a part).",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache bench --quick",
        "  actcache bench --filter '\\.MergeBenchmark\\.' --out /tmp/merge-report",
        "  actcache bench --filter AppendBenchmark -- -f 3 -wi 5",
        "  actcache bench --report-only --out bench/target/report",
        "",
        "Exit status: 0 done, 1 bad input, 3 a benchmark or a report file failed."})
public final class BenchSuite implements Callable<Integer> {
    /** System property: the project root (set by bin/actcache); default the working directory. */
    public static final String HOME_PROPERTY = "actcache.home";

    @Option(names = "--quick", description = "1 fork, fewer iterations, smaller stores and N: a smoke subset.")
    boolean quick;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR",
        description = "Output directory (default: bench/target/report under the project root).")
    Path out;

    @Option(names = {"-f", "--filter"}, paramLabel = "REGEX",
        description = "Run only benchmarks matching this JMH regex (repeatable), e.g. MergeBenchmark or "
            + "'AppendBenchmark.store'.")
    List<String> filters = new ArrayList<>();

    @Option(names = "--no-python", description = "Skip the PyTorch/safetensors side-by-side.")
    boolean noPython;

    @Option(names = "--python", paramLabel = "FILE",
        description = "The python3 to run the side-by-side with (it must import torch and safetensors).")
    Path python;

    @Option(names = "--report-only",
        description = "Run nothing: remake the report from jmh-result.json and side-by-side.json in the output "
            + "directory.")
    boolean reportOnly;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "JMH_OPTION", description = "After '--': options passed to JMH as they are "
        + "(bench/run.sh -h lists them).")
    List<String> jmhOptions = new ArrayList<>();

    /**
     * @param args the command line after {@code actcache bench}.
     */
    public static void main(final String[] args) {
        System.exit(execute(args));
    }

    /**
     * @param args the command line after {@code actcache bench}.
     * @return the exit status.
     */
    public static int execute(final String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * @param out  where help goes.
     * @param err  where failures go.
     * @param args the command line after {@code actcache bench}.
     * @return the exit status.
     */
    public static int execute(final PrintWriter out, final PrintWriter err, final String... args) {
        final CommandLine commandLine = new CommandLine(new BenchSuite()).setOut(out).setErr(err);
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("actcache bench: " + e.getMessage());
            if ("1".equals(System.getenv("ACTCACHE_DEBUG"))) {
                e.printStackTrace(cmd.getErr());
            }
            return e instanceof BenchInputException ? 1 : 3;
        });
        commandLine.setParameterExceptionHandler((e, parsed) -> {
            e.getCommandLine().getErr().println("actcache bench: " + e.getMessage());
            e.getCommandLine().getErr().println("Try 'actcache bench --help'.");
            return 1;
        });
        return commandLine.execute(args);
    }

    /**
     * Where this process may not drop the page cache (not root), the cold-read baseline reads with O_DIRECT and the
     * store's cold reads, which go through mappings and so need a drop, are left out rather than failing.
     *
     * @param given the JMH options the user gave; a {@code coldBy} among them is kept as given.
     * @return the JMH options to add.
     */
    static List<String> coldReadOptions(final List<String> given) {
        if (given.stream().anyMatch(option -> option.startsWith(ReadBenchmark.COLD_BY + "="))
            || PageCache.DROP_CACHES.equals(PageCache.coldReadMethod())) {
            return List.of();
        }
        System.err.println("actcache bench: cannot drop the page cache (not root): cold reads baseline with "
            + "O_DIRECT, the store's cold reads are left out");
        return List.of("-p", ReadBenchmark.COLD_BY + "=" + PageCache.O_DIRECT,
            "-e", "ReadBenchmark\\.(cold|coldColumnFiles)$");
    }

    @Override
    public Integer call() throws Exception {
        final Path home = Path.of(System.getProperty(HOME_PROPERTY, ".")).toAbsolutePath().normalize();
        final Path dir = (out != null ? out : home.resolve("bench/target/report")).toAbsolutePath().normalize();
        // Every input is checked before anything is written.
        final List<String> checkedFilters = matching(filters);
        requireWritable(dir);
        final Path jmhJson = dir.resolve(BenchMain.RESULT_JSON);
        if (reportOnly && !Files.isRegularFile(jmhJson)) {
            throw new BenchInputException("--report-only: there is no " + jmhJson + " to report on");
        }
        if (!reportOnly) {
            final List<String> args = new ArrayList<>();
            if (quick) {
                args.add(BenchMain.QUICK);
            }
            args.addAll(jmhOptions);
            args.addAll(coldReadOptions(jmhOptions));
            args.addAll(checkedFilters);
            // JMH writes an empty result file when every benchmark failed; the report then says so.
            final java.util.Collection<RunResult> results = BenchMain.run(args, dir);
            if (results.isEmpty()) {
                throw new IllegalStateException("no benchmark finished (see JMH's output above); nothing to report");
            }
        }
        final JmhResults jmh = JmhResults.read(jmhJson);
        final PeerResults peers = peers(home, dir, jmh);
        final PrintWriter out = spec.commandLine().getOut();
        for (final Path file : SuiteReport.write(jmh, peers, dir)) {
            out.println(file);
        }
        out.flush();
        return 0;
    }

    private PeerResults peers(final Path home, final Path dir, final JmhResults jmh) {
        if (reportOnly) {
            final Path file = dir.resolve(PythonPeers.RESULT_JSON);
            return Files.isRegularFile(file) ? PeerResults.read(file)
                : PeerResults.skipped("no " + PythonPeers.RESULT_JSON + " in " + dir);
        }
        if (noPython) {
            return PeerResults.skipped("--no-python was given");
        }
        final Set<String> batches = new LinkedHashSet<>();
        final Set<String> storages = new LinkedHashSet<>();
        for (final Measurement m : jmh.measurements()) {
            if (m.group().equals("MergeBenchmark") && m.params().containsKey(MergeBenchmark.BATCHES)) {
                batches.add(m.params().get(MergeBenchmark.BATCHES));
                if (m.params().containsKey(BenchMain.STORAGE)) {
                    storages.add(m.params().get(BenchMain.STORAGE));
                }
            }
        }
        final List<String> storageDirs = new ArrayList<>();
        for (final String storage : storages) {
            storageDirs.add(storage + "=" + (BenchFiles.MEMORY.equals(storage) ? "/dev/shm"
                : System.getProperty("java.io.tmpdir")));
        }
        return new PythonPeers(home).run(python, batches, storageDirs, quick, dir);
    }

    /**
     * @throws BenchInputException naming the directory when it cannot be made or written.
     */
    static void requireWritable(final Path dir) {
        try {
            Files.createDirectories(dir);
            Files.delete(Files.createTempFile(dir, ".write-probe-", ""));
        } catch (final IOException e) {
            throw new BenchInputException("output directory " + dir + " cannot be created or written: " + e, e);
        }
    }

    /**
     * @param filters JMH regexes.
     * @return the filters, each checked.
     * @throws BenchInputException naming a filter that is not a regex or matches no benchmark.
     */
    static List<String> matching(final List<String> filters) {
        final PrintStream silent = new PrintStream(OutputStream.nullOutputStream());
        final List<String> all = BenchmarkList.defaultList()
            .find(OutputFormatFactory.createFormatInstance(silent, VerboseMode.SILENT), List.of(".*"), List.of())
            .stream().map(BenchmarkListEntry::getUsername).toList();
        for (final String filter : filters) {
            final Pattern pattern;
            try {
                pattern = Pattern.compile(filter);
            } catch (final PatternSyntaxException e) {
                throw new BenchInputException("--filter '" + filter + "' is not a regular expression: "
                    + e.getDescription(), e);
            }
            if (all.stream().noneMatch(name -> pattern.matcher(name).find())) {
                throw new BenchInputException("--filter '" + filter + "' matches no benchmark; the benchmarks are: "
                    + String.join(", ", all.stream().map(n -> n.substring("io.actcache.bench.".length())).toList()));
            }
        }
        return filters;
    }
}
