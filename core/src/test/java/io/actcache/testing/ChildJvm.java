package io.actcache.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a separate JVM on the test class path with the project's JVM flags (read from the jvm.flags files the
 * build generates from the parent pom), for reopen, crash and start-up tests that need a real second process.
 */
public final class ChildJvm {
    /**
     * Every child's {@code java.io.tmpdir}: lz4-java unpacks its native library there and deletes it at exit, which a
     * child killed by a crash test never reaches. Deleted with its contents when the test JVM exits.
     */
    private static Path childTemp;

    private ChildJvm() {
    }

    /** Output and exit code of a finished child. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** @return stdout and stderr, for assertion messages. */
        public String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /**
     * @param includeSystemProperties whether to pass the -D flags too (false proves code sets them).
     * @return the JVM flags the build generated from the parent pom, for the running JDK.
     */
    public static List<String> projectFlags(final boolean includeSystemProperties) {
        final List<String> flags = new ArrayList<>(read("META-INF/actcache/jvm.flags"));
        if (Runtime.version().feature() >= 22) {
            flags.addAll(read("META-INF/actcache/jvm-jdk22.flags"));
        }
        if (!includeSystemProperties) {
            flags.removeIf(flag -> flag.startsWith("-D"));
        }
        return flags;
    }

    /**
     * Runs {@code mainClass} in a child JVM and waits for it.
     *
     * @param jvmArgs        extra JVM arguments (heap size, logging).
     * @param withProperties whether to pass the pom's -D flags.
     * @param timeoutSeconds kill the child after this long.
     * @param mainClass      class with a main method on the test class path.
     * @param args           program arguments.
     * @return the result.
     */
    public static Result run(final List<String> jvmArgs, final boolean withProperties, final long timeoutSeconds,
        final Class<?> mainClass, final String... args) throws IOException, InterruptedException {
        final Process process = start(jvmArgs, withProperties, mainClass, args);
        final Path out = Files.createTempFile("child-out", ".txt");
        final Path err = Files.createTempFile("child-err", ".txt");
        try {
            final Thread outPump = pump(process.getInputStream(), out);
            final Thread errPump = pump(process.getErrorStream(), err);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(mainClass.getSimpleName() + " did not finish in " + timeoutSeconds + " s");
            }
            outPump.join();
            errPump.join();
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * Starts a child without waiting; the caller owns the process.
     *
     * @param jvmArgs        extra JVM arguments.
     * @param withProperties whether to pass the pom's -D flags.
     * @param mainClass      main class.
     * @param args           program arguments.
     * @return the running process.
     */
    public static Process start(final List<String> jvmArgs, final boolean withProperties, final Class<?> mainClass,
        final String... args) throws IOException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(projectFlags(withProperties));
        command.add("-Djava.io.tmpdir=" + childTemp());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(Arrays.asList(args));
        return new ProcessBuilder(command).start();
    }

    private static synchronized Path childTemp() throws IOException {
        if (childTemp == null) {
            final Path dir = Files.createTempDirectory("actcache-children-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            childTemp = dir;
        }
        return childTemp;
    }

    private static void deleteTree(final Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (final IOException e) {
            // Best effort at exit: what stays is a few unpacked libraries in the system temp directory.
        }
    }

    private static Thread pump(final java.io.InputStream in, final Path file) {
        final Thread thread = new Thread(() -> {
            try (in) {
                Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (final IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        thread.start();
        return thread;
    }

    private static List<String> read(final String resource) {
        try (var in = ChildJvm.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new AssertionError("missing " + resource + " on the class path: build core with Maven first");
            }
            final String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            final List<String> flags = new ArrayList<>();
            for (final String token : text.trim().split("\\s+")) {
                if (!token.isEmpty()) {
                    flags.add(token);
                }
            }
            return flags;
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
