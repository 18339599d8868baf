package io.actcache.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs what a user runs, {@code bin/actcache} and {@code python3}, as child processes from the project root, with
 * stdout and stderr captured through files (no pipe can fill up and stall the child).
 */
final class Processes {
    /** Generous: the first launcher call of a fresh checkout builds the CLI. */
    static final long TIMEOUT_SECONDS = 600;

    private Processes() {
    }

    /**
     * @return the project root, from the {@code actcache.home} system property set by {@code src/pom.xml}.
     */
    static Path home() {
        final String property = System.getProperty("actcache.home");
        if (property == null) {
            return fail("system property actcache.home (the project root) is not set; run these tests through Maven "
                + "(src/pom.xml sets it) or pass -Dactcache.home=/path/to/actcache");
        }
        final Path home = Path.of(property).toAbsolutePath().normalize();
        assertTrue(Files.isExecutable(home.resolve("bin/actcache")) && Files.isRegularFile(home.resolve("pom.xml")),
            "actcache.home=" + home + " is not the project root: no executable bin/actcache or no pom.xml there");
        return home;
    }

    /**
     * @param args arguments after {@code bin/actcache}.
     * @return the finished run.
     */
    static Result actcache(final String... args) {
        final List<String> command = new ArrayList<>();
        command.add(home().resolve("bin/actcache").toString());
        command.addAll(Arrays.asList(args));
        return run(command);
    }

    /**
     * @param command a command line, run from the project root with the inherited environment minus
     *                {@code ACTCACHE_DEBUG}, so that error output is what a user sees by default. When Maven built
     *                the jar for this run ({@code actcache.cli.jar} exists), the launcher runs it as it is
     *                ({@code ACTCACHE_NO_BUILD=1}): a source edited during the run must not rebuild it halfway.
     * @return the finished run.
     */
    static Result run(final List<String> command) {
        try {
            final Path out = Files.createTempFile("actcache-e2e-", ".out");
            final Path err = Files.createTempFile("actcache-e2e-", ".err");
            try {
                final ProcessBuilder builder = new ProcessBuilder(command).directory(home().toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
                builder.environment().remove("ACTCACHE_DEBUG");
                final String jar = System.getProperty("actcache.cli.jar");
                if (jar != null && Files.isRegularFile(Path.of(jar))) {
                    builder.environment().put("ACTCACHE_NO_BUILD", "1");
                }
                final Process process = builder.start();
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return fail(command + " did not finish within " + TIMEOUT_SECONDS + " s");
                }
                return new Result(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (final IOException e) {
            return fail("cannot run " + command + ": " + e, e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while running " + command, e);
        }
    }

    /**
     * Fails the calling test, with a message saying what to install, unless {@code python3} can import numpy.
     */
    static void requireNumpy() {
        final Result probe;
        try {
            probe = run(List.of("python3", "-c", "import numpy; print(numpy.__version__)"));
        } catch (final AssertionError e) {
            throw new AssertionError("this interop check needs python3 with numpy on the PATH, and python3 could not "
                + "be started (" + e.getMessage() + "); install python3 and numpy (pip install numpy)", e);
        }
        assertTrue(probe.code() == 0, "this interop check needs python3 with numpy on the PATH, and "
            + "'python3 -c \"import numpy\"' failed (exit " + probe.code() + "): " + probe.err().strip()
            + "; install numpy (pip install numpy)");
    }

    /**
     * A python3 that imports numpy and the real safetensors package: a virtual environment under
     * {@code src/target/pyenv} (seeing the system's numpy) with safetensors installed offline from the machine's
     * wheel folder ({@code ACTCACHE_WHEELS}, else {@code /opt/pypi/files}, else wherever a
     * {@code safetensors-*.whl} is found). Made once per build; fails, saying what is missing, when it cannot be.
     *
     * @return the environment's python3.
     */
    static synchronized Path pythonWithSafetensors() {
        requireNumpy();
        final Path env = home().resolve("src/target/pyenv");
        final Path python = env.resolve("bin/python3");
        if (Files.isExecutable(python)
            && run(List.of(python.toString(), "-c", "import safetensors.numpy")).code() == 0) {
            return python;
        }
        final Path wheels = wheelFolder();
        final Result venv = run(List.of("python3", "-m", "venv", "--system-site-packages", env.toString()));
        assertTrue(venv.code() == 0, "cannot make a python virtual environment (python3 -m venv): " + venv.describe());
        final Result pip = run(List.of(python.toString(), "-m", "pip", "install", "--quiet", "--no-index",
            "--find-links", wheels.toString(), "safetensors"));
        assertTrue(pip.code() == 0, "cannot install safetensors from " + wheels + ": " + pip.describe());
        return python;
    }

    private static Path wheelFolder() {
        final String configured = System.getenv("ACTCACHE_WHEELS");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        final Path usual = Path.of("/opt/pypi/files");
        if (hasSafetensorsWheel(usual)) {
            return usual;
        }
        final Result find = run(List.of("bash", "-c",
            "find / -xdev -name 'safetensors-*.whl' -print -quit 2>/dev/null"));
        final String found = find.out().strip();
        assertTrue(!found.isEmpty(), "this interop check needs the safetensors Python package; no "
            + "safetensors-*.whl wheel was found on this machine: set ACTCACHE_WHEELS to a folder holding one");
        return Path.of(found).getParent();
    }

    private static boolean hasSafetensorsWheel(final Path dir) {
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(file -> file.getFileName().toString().startsWith("safetensors-"));
        } catch (final java.io.IOException e) {
            return false;
        }
    }

    /**
     * What a child process did.
     *
     * @param command the command line.
     * @param code    its exit code.
     * @param out     its stdout.
     * @param err     its stderr.
     */
    record Result(List<String> command, int code, String out, String err) {
        /** @return the first line of stderr, or an empty string. */
        String firstErrLine() {
            return err.lines().findFirst().orElse("");
        }

        /** @return everything about the run, for assertion messages. */
        String describe() {
            return String.join(" ", command) + " exited " + code + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
        }
    }
}
