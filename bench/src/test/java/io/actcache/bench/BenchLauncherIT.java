package io.actcache.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/actcache bench} as a user runs it, in a real child process, on the benchmarks jar this build has just
 * packaged ({@code ACTCACHE_NO_BUILD=1}: the launcher must not rebuild it halfway through the build).
 */
class BenchLauncherIT {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private Run actcache(final String... args) throws IOException, InterruptedException {
        final Path home = Path.of(System.getProperty("actcache.home", "..")).toAbsolutePath().normalize();
        final List<String> command = new ArrayList<>(List.of(home.resolve("bin/actcache").toString()));
        command.addAll(List.of(args));
        final Path out = dir.resolve("stdout");
        final Path err = dir.resolve("stderr");
        final ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile())
            .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("ACTCACHE_NO_BUILD", "1");
        builder.environment().remove("ACTCACHE_DEBUG");
        final Process process = builder.start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), command + " did not finish in 120 s");
        return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void helpComesFromTheSuite() throws Exception {
        final Run run = actcache("bench", "--help");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("Usage: actcache bench") && run.out().contains("--quick"), run.out());
    }

    @Test
    void anUnknownFilterFailsWithOneLineNamingIt() throws Exception {
        final Run run = actcache("bench", "--filter", "NoSuchBenchmark", "--out", dir.resolve("report").toString());
        assertEquals(1, run.code(), run.out());
        assertTrue(run.err().startsWith("actcache bench: --filter 'NoSuchBenchmark' matches no benchmark"), run.err());
        assertTrue(Files.notExists(dir.resolve("report")));
    }

    @Test
    void reportOnlyWritesTheReportAndPlots() throws Exception {
        final Path report = Files.createDirectories(dir.resolve("report"));
        Files.copy(SuiteReportTest.captured("jmh-result.json"), report.resolve(BenchMain.RESULT_JSON));
        Files.copy(SuiteReportTest.captured("side-by-side.json"), report.resolve(PythonPeers.RESULT_JSON));
        final Run run = actcache("bench", "--report-only", "--out", report.toString());
        assertEquals(0, run.code(), run.err());
        final Path plot = report.resolve("MergeBenchmark-batches-throughput.png");
        assertTrue(run.out().lines().toList().contains(plot.toString()), run.out());
        assertNotNull(ImageIO.read(plot.toFile()), plot + " does not decode");
        assertTrue(Files.readString(report.resolve(SuiteReport.MARKDOWN)).contains("PyTorch.deferred_save"));
    }
}
