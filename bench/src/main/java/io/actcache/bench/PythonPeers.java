package io.actcache.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the side-by-side ({@code bench/python/side_by_side.py}) with a python3 that imports torch and safetensors:
 * the one given, else {@code bench/target/pyenv} made before, else {@code python3} on the PATH when it imports both,
 * else a new virtual environment {@code bench/target/pyenv} (seeing the system's packages) with torch and
 * safetensors installed offline from the wheel folders ({@code ACTCACHE_WHEELS}, path-separated, else the folders
 * on this machine holding a {@code torch-*.whl} and a {@code safetensors-*.whl}). When none can be had the result
 * says why: the side-by-side is optional, never a failure of the suite.
 */
public final class PythonPeers {
    /** The script, relative to the project root. */
    public static final String SCRIPT = "bench/python/side_by_side.py";
    /** Its output in the report directory. */
    public static final String RESULT_JSON = "side-by-side.json";
    private static final String PROBE = "import torch, safetensors.torch";

    private final Path home;

    /** @param home the project root (holds {@value #SCRIPT}). */
    public PythonPeers(final Path home) {
        this.home = home;
    }

    /**
     * @param python    a python3 to use, or null to find or make one.
     * @param batches   the N values MergeBenchmark ran at.
     * @param storages  {@code name=directory} per storage MergeBenchmark ran on.
     * @param quick     fewer repetitions.
     * @param out       the report directory.
     * @return the peers' results, or why they were not measured.
     */
    public PeerResults run(final Path python, final Set<String> batches, final List<String> storages,
        final boolean quick, final Path out) {
        if (batches.isEmpty()) {
            return PeerResults.skipped("MergeBenchmark did not run, so there is nothing to compare with");
        }
        final Path interpreter;
        try {
            interpreter = python != null ? python : findOrInstall();
        } catch (final IllegalStateException e) {
            return PeerResults.skipped(e.getMessage());
        }
        if (python != null && !imports(python)) {
            return PeerResults.skipped(python + " cannot '" + PROBE + "'");
        }
        final Path result = out.resolve(RESULT_JSON);
        final List<String> command = new ArrayList<>(List.of(interpreter.toString(), home.resolve(SCRIPT).toString(),
            "--batches", String.join(",", new TreeSet<>(batches)), "--out", result.toString()));
        for (final String storage : storages) {
            command.add("--storage");
            command.add(storage);
        }
        if (quick) {
            command.addAll(List.of("--warmups", "1", "--repeats", "3", "--reference-repeats", "1"));
        }
        System.err.println("actcache bench: side-by-side: " + String.join(" ", command));
        final int code = exec(command, true);
        if (code != 0) {
            return PeerResults.skipped(SCRIPT + " exited " + code + " (its output is above)");
        }
        return PeerResults.read(result);
    }

    private Path findOrInstall() {
        final Path env = home.resolve("bench/target/pyenv");
        final Path envPython = env.resolve("bin/python3");
        if (Files.isExecutable(envPython) && imports(envPython)) {
            return envPython;
        }
        if (imports(Path.of("python3"))) {
            return Path.of("python3");
        }
        if (exec(List.of("python3", "--version"), false) != 0) {
            throw new IllegalStateException("python3 is not on the PATH");
        }
        final List<Path> folders = wheelFolders();
        System.err.println("actcache bench: installing torch and safetensors into " + env + " from " + folders);
        if (exec(List.of("python3", "-m", "venv", "--system-site-packages", env.toString()), true) != 0) {
            throw new IllegalStateException("python3 -m venv " + env + " failed");
        }
        final List<String> pip = new ArrayList<>(List.of(envPython.toString(), "-m", "pip", "install", "--quiet",
            "--no-index"));
        for (final Path folder : folders) {
            pip.add("--find-links");
            pip.add(folder.toString());
        }
        pip.add(cpuTorchWheel(folders));
        pip.add("safetensors");
        if (exec(pip, true) != 0 || !imports(envPython)) {
            throw new IllegalStateException("torch and safetensors could not be installed from " + folders
                + " (pip's output is above)");
        }
        return envPython;
    }

    /** @return the folders to install from: ACTCACHE_WHEELS, else where this machine keeps the two wheels. */
    private List<Path> wheelFolders() {
        final String configured = System.getenv("ACTCACHE_WHEELS");
        if (configured != null && !configured.isBlank()) {
            return Stream.of(configured.split(File.pathSeparator)).filter(s -> !s.isBlank()).map(Path::of).toList();
        }
        final List<Path> folders = new ArrayList<>();
        for (final String wheel : List.of("torch-*.whl", "safetensors-*.whl")) {
            final List<Path> found = find(wheel);
            if (found.isEmpty()) {
                throw new IllegalStateException("python3 cannot '" + PROBE + "' and no " + wheel + " was found on "
                    + "this machine: set ACTCACHE_WHEELS to folders holding torch and safetensors wheels");
            }
            found.forEach(file -> {
                if (!folders.contains(file.getParent())) {
                    folders.add(file.getParent());
                }
            });
        }
        // torch's own dependencies (sympy, networkx, ...) sit in the usual package folders beside them.
        for (final String usual : List.of("/opt/pypi/files", "/opt/pypi-more/files")) {
            if (Files.isDirectory(Path.of(usual)) && !folders.contains(Path.of(usual))) {
                folders.add(Path.of(usual));
            }
        }
        return folders;
    }

    /** @return a CPU-only torch wheel file when one is there (the CUDA builds need GPU libraries), else "torch". */
    private static String cpuTorchWheel(final List<Path> folders) {
        for (final Path folder : folders) {
            try (Stream<Path> files = Files.list(folder)) {
                final var cpu = files.filter(f -> f.getFileName().toString().matches("torch-[^-]*\\+cpu-.*\\.whl"))
                    .findFirst();
                if (cpu.isPresent()) {
                    return cpu.get().toString();
                }
            } catch (final IOException e) {
                // An unreadable folder holds no wheel for us.
            }
        }
        return "torch";
    }

    private static List<Path> find(final String pattern) {
        final List<Path> found = new ArrayList<>();
        try {
            final Process process = new ProcessBuilder("find", "/", "-xdev", "-name", pattern)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            for (final String line : new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .split("\n")) {
                if (!line.isBlank()) {
                    found.add(Path.of(line));
                }
            }
            process.waitFor(5, TimeUnit.MINUTES);
        } catch (final IOException e) {
            return found;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return found;
    }

    private static boolean imports(final Path python) {
        return exec(List.of(python.toString(), "-c", PROBE), false) == 0;
    }

    /** @return the exit code, or -1 when the command cannot be started. */
    private static int exec(final List<String> command, final boolean showOutput) {
        try {
            final ProcessBuilder builder = new ProcessBuilder(command);
            if (showOutput) {
                // The script prints its progress to stderr, pip --quiet only its errors.
                builder.inheritIO();
            } else {
                builder.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD);
            }
            return builder.start().waitFor();
        } catch (final IOException e) {
            return -1;
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
