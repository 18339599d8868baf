package io.actcache.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed PTX is what {@code cuda/compile-ptx.sh} makes of the committed {@code .cu} sources. */
class PtxResourceTest {
    /** The cuda module: the working directory under Maven, its {@code cuda/} folder from the repository root. */
    private static final Path MODULE = Files.exists(Path.of("compile-ptx.sh")) ? Path.of("").toAbsolutePath()
        : Path.of("cuda").toAbsolutePath();

    @Test
    void shouldDefineEveryKernelTheJavaSideLaunches() {
        final String ptx = new String(Kernels.ptx(), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_80"), "compiled for compute_80");
        assertEquals(0, ptx.charAt(ptx.length() - 1), "NUL-terminated for cuModuleLoadData");
        for (final String name : Kernels.NAMES) {
            assertTrue(ptx.contains(".visible .entry " + name + "("), "kernel " + name + " is in the PTX");
        }
    }

    @Test
    void shouldPassTheSegmentTableByValueInTheSizeTheJavaSideFills() {
        final String ptx = new String(Kernels.ptx(), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".param .align 8 .b8 actcache_copy_segments_param_1[" + Kernels.SEGMENT_PARAM_BYTES
            + "]"), "the by-value segment table is " + Kernels.SEGMENT_PARAM_BYTES + " bytes");
        assertTrue(Kernels.SEGMENT_PARAM_BYTES + 8 + 4 <= 4096, "kernel parameters fit the classic 4 KiB");
    }

    @Test
    void shouldUseIeeeArithmeticWithoutContractionOrFlushToZero() {
        final String ptx = new String(Kernels.ptx(), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains("add.rn.f32"), "explicit round-to-nearest additions");
        assertTrue(ptx.contains("div.rn.f32"), "IEEE division");
        assertTrue(!ptx.contains("fma.") && !ptx.contains(".ftz.") && !ptx.contains("div.approx")
            && !ptx.contains("div.full"), "no FMA, flush-to-zero or approximate division");
    }

    @Test
    void shouldMatchTheSourceWhenNvccIsPresent(@TempDir final Path temp) throws IOException, InterruptedException {
        Assumptions.assumeTrue(nvccOnPath(), "nvcc is not on the PATH: the committed PTX cannot be rebuilt here");
        final Path script = MODULE.resolve("compile-ptx.sh");
        final Process process = new ProcessBuilder("bash", script.toString(), temp.toString())
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "nvcc finished");
        assertEquals(0, process.exitValue(), "compile-ptx.sh failed:\n" + output);
        final Path resources = MODULE.resolve("src/main/resources/io/actcache/cuda");
        final List<Path> sources;
        try (var files = Files.list(MODULE.resolve("src/main/cuda"))) {
            sources = files.filter(file -> file.toString().endsWith(".cu")).sorted().collect(Collectors.toList());
        }
        assertTrue(!sources.isEmpty(), "kernel sources exist");
        for (final Path source : sources) {
            final String name = source.getFileName().toString().replace(".cu", ".ptx");
            assertEquals(withoutComments(temp.resolve(name)), withoutComments(resources.resolve(name)),
                name + " is stale: run cuda/compile-ptx.sh and commit the result");
        }
    }

    /** nvcc's header names its version and build; only the code must match. */
    private static String withoutComments(final Path ptx) throws IOException {
        return Files.readAllLines(ptx, StandardCharsets.US_ASCII).stream()
            .filter(line -> !line.trim().startsWith("//"))
            .collect(Collectors.joining("\n"));
    }

    private static boolean nvccOnPath() {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return false;
    }
}
