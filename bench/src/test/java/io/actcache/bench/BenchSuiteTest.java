package io.actcache.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code actcache bench}'s command line: help, the report remade from a finished run's files, and bad input
 * refused with a message naming it before anything is run or written. (Running the benchmarks themselves takes
 * minutes: that is {@code bin/actcache bench --quick}, not a unit test.)
 */
class BenchSuiteTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(final String... args) {
        return BenchSuite.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    @Test
    void helpListsTheOptions() {
        assertEquals(0, run("--help"));
        final String help = out.toString();
        for (final String option : new String[] {"--quick", "--out", "--filter", "--no-python", "--python",
            "--report-only", "JMH_OPTION"}) {
            assertTrue(help.contains(option), "help lacks " + option + ":\n" + help);
        }
        assertTrue(help.startsWith("Run the performance suite"), help);
    }

    @Test
    void reportOnlyRemakesTheReportFromTheFilesInTheOutputDirectory() throws IOException {
        Files.copy(SuiteReportTest.captured("jmh-result.json"), dir.resolve(BenchMain.RESULT_JSON));
        Files.copy(SuiteReportTest.captured("side-by-side.json"), dir.resolve(PythonPeers.RESULT_JSON),
            StandardCopyOption.REPLACE_EXISTING);
        assertEquals(0, run("--report-only", "--out", dir.toString()), err.toString());
        for (final String file : new String[] {SuiteReport.MARKDOWN, SuiteReport.JSON,
            "MergeBenchmark-batches-throughput.png"}) {
            assertTrue(Files.size(dir.resolve(file)) > 0, file);
            assertTrue(out.toString().contains(dir.resolve(file).toString()), "not listed: " + file + "\n" + out);
        }
        assertTrue(Files.readString(dir.resolve(SuiteReport.MARKDOWN)).contains("PyTorch.reference"));
    }

    @Test
    void coldReadsFollowWhetherThePageCacheCanBeDropped() {
        final java.util.List<String> added = BenchSuite.coldReadOptions(java.util.List.of());
        if (PageCache.DROP_CACHES.equals(PageCache.coldReadMethod())) {
            assertEquals(java.util.List.of(), added, "root: every cold read runs after a drop");
        } else {
            assertEquals(java.util.List.of("-p", "coldBy=o_direct", "-e", "ReadBenchmark\\.(cold|coldColumnFiles)$"),
                added, "not root: O_DIRECT baseline, the store's mapped cold reads left out");
        }
        assertEquals(java.util.List.of(), BenchSuite.coldReadOptions(java.util.List.of("-p", "coldBy=o_direct")),
            "a coldBy the user gives is kept as given");
    }

    @Test
    void anUnknownBenchmarkFilterIsNamedAndNothingIsWritten() {
        final Path target = dir.resolve("report");
        assertEquals(1, run("--filter", "NoSuchBenchmark", "--out", target.toString()));
        final String message = err.toString();
        assertTrue(message.startsWith("actcache bench: --filter 'NoSuchBenchmark' matches no benchmark"), message);
        assertTrue(message.contains("MergeBenchmark.oursStore"), "the benchmarks are not listed: " + message);
        assertFalse(Files.exists(target), "the output directory was made for a refused run");
    }

    @Test
    void aFilterThatIsNotARegexIsNamed() {
        assertEquals(1, run("--filter", "Merge(", "--out", dir.toString()));
        assertTrue(err.toString().startsWith("actcache bench: --filter 'Merge(' is not a regular expression"),
            err.toString());
    }

    @Test
    void anOutputDirectoryThatCannotBeMadeIsNamed() throws IOException {
        // A path under a regular file: refused whoever runs the test, root included.
        final Path file = Files.writeString(dir.resolve("a-file"), "x");
        final Path target = file.resolve("report");
        assertEquals(1, run("--report-only", "--out", target.toString()));
        assertTrue(err.toString().startsWith("actcache bench: output directory " + target
            + " cannot be created or written"), err.toString());
        assertEquals("x", Files.readString(file));
    }

    @Test
    void reportOnlyWithoutAResultFileIsNamed() throws IOException {
        assertEquals(1, run("--report-only", "--out", dir.toString()));
        assertTrue(err.toString().contains(dir.resolve(BenchMain.RESULT_JSON).toString()), err.toString());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "a refused run wrote files");
        }
    }

    @Test
    void anUnknownOptionIsRefused() {
        assertEquals(1, run("--fast"));
        assertTrue(err.toString().startsWith("actcache bench: Unknown option: '--fast'"), err.toString());
    }
}
