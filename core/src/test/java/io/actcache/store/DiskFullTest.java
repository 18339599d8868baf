package io.actcache.store;

import io.actcache.StoreIOException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Running out of space mid-merge: the merge fails with an exception naming the file, the store stays at its
 * last commit, and reopening works. Two ways: a file-size limit ({@code ulimit -f}, SIGXFSZ ignored so writes
 * fail with EFBIG; runs anywhere), and a real full filesystem (a 12 MiB tmpfs mounted in a user namespace with
 * {@code unshare -rm}, where the machine allows it).
 */
class DiskFullTest {
    private static final Shape BATCH = Shape.of(64, 1024);
    private static final Pattern FAILED = Pattern.compile("failed after epoch (\\d+): (.*)");

    @TempDir
    Path tmp;

    @Test
    void shouldFailAMergeAtTheFileSizeLimitNamingTheFileAndKeepTheLastCommit() throws Exception {
        final Path dir = tmp.resolve("store");
        // ulimit -f counts 1 KiB blocks: column files stop at 3 MiB, about 11 batches of 256 KiB.
        final ChildJvm.Result result = run("ulimit -f 3072; trap '' XFSZ; exec " + childCommand(Filler.class, dir));
        assertEquals(0, result.exitCode(), result.describe());
        final Matcher failed = FAILED.matcher(result.stdout());
        assertTrue(failed.find(), result.describe());
        final long epoch = Long.parseLong(failed.group(1));
        assertTrue(epoch >= 5, "some commits succeeded first: " + result.describe());
        assertTrue(failed.group(2).contains(dir.resolve(StoreFiles.COLUMNS).toString()), failed.group(2));
        try (ActivationStore store = ActivationStore.open(dir)) {
            Verifier.check(store, epoch);
            store.append("a", batch(1_000));
        }
    }

    @Test
    void shouldFailAMergeOnAFullFilesystemAndReopen() throws Exception {
        final Path mount = tmp.resolve("tmpfs");
        java.nio.file.Files.createDirectories(mount);
        final Path dir = mount.resolve("store");
        final String script = "mount -t tmpfs -o size=12m tmpfs " + mount + " && " + childCommand(Filler.class, dir)
            + " && " + childCommand(Verifier.class, dir);
        final Path scriptFile = tmp.resolve("fill.sh");
        java.nio.file.Files.writeString(scriptFile, script + "\n");
        final ChildJvm.Result result = run("unshare -rm sh " + scriptFile);
        if (result.exitCode() != 0 && result.stderr().contains("unshare") && !result.stdout().contains("failed")) {
            // This machine allows no user namespace: the file-size-limit test above is what ran here.
            assertTrue(result.stderr().contains("Operation not permitted") || result.stderr().contains("not found"),
                "unshare refused for an unexpected reason: " + result.describe());
            System.out.println("DiskFullTest: no user namespaces here; only the ulimit -f variant ran");
            return;
        }
        assertEquals(0, result.exitCode(), result.describe());
        final Matcher failed = FAILED.matcher(result.stdout());
        assertTrue(failed.find(), result.describe());
        assertTrue(failed.group(2).contains("No space left on device"), failed.group(2));
        assertTrue(result.stdout().contains("verified epoch " + failed.group(1)), result.describe());
        assertTrue(result.stdout().contains("reopened for writing"), result.describe());
    }

    static Tensor batch(final long seed) {
        return TestData.random(DType.F32, BATCH, seed);
    }

    private static String childCommand(final Class<?> main, final Path dir) {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ChildJvm.projectFlags(true));
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.add(dir.toString());
        final StringBuilder line = new StringBuilder();
        for (final String word : command) {
            line.append(" '").append(word.replace("'", "'\\''")).append('\'');
        }
        return line.toString();
    }

    private ChildJvm.Result run(final String shell) throws Exception {
        final Path script = java.nio.file.Files.createTempFile(tmp, "run", ".sh");
        java.nio.file.Files.writeString(script, shell + "\n");
        final Process process = new ProcessBuilder("bash", script.toString()).start();
        final byte[] out = process.getInputStream().readAllBytes();
        final byte[] err = process.getErrorStream().readAllBytes();
        return new ChildJvm.Result(process.waitFor(), new String(out, StandardCharsets.UTF_8),
            new String(err, StandardCharsets.UTF_8));
    }

    /** Child: commits two-key merges until the disk refuses one, then closes the store. */
    public static final class Filler {
        public static void main(final String[] args) {
            final ActivationStore store = ActivationStore.create(Path.of(args[0]), StoreOptions.defaults());
            for (long step = 1; ; step++) {
                try (ActivationStore.Batch merge = store.batch()) {
                    merge.append("a", batch(step));
                    merge.append("b", batch(-step));
                    merge.commit();
                } catch (final StoreIOException e) {
                    System.out.println("failed after epoch " + store.epoch() + ": " + e.getMessage());
                    break;
                }
            }
            try {
                store.close();
            } catch (final StoreIOException e) {
                System.out.println("close failed (store left for recovery): " + e.getMessage());
            }
        }
    }

    /** Child (and helper): checks a store holds exactly epochs 1..E of the filler's merges. */
    public static final class Verifier {
        public static void main(final String[] args) {
            long epoch;
            try (ActivationStore store = ActivationStore.openReadOnly(Path.of(args[0]))) {
                epoch = store.epoch();
                check(store, epoch);
            }
            try (ActivationStore store = ActivationStore.open(Path.of(args[0]))) {
                check(store, epoch);
                System.out.println("reopened for writing at epoch " + store.epoch());
            }
            System.out.println("verified epoch " + epoch);
        }

        static void check(final ActivationStore store, final long epoch) {
            if (store.epoch() != epoch) {
                throw new AssertionError("store at epoch " + store.epoch() + ", expected " + epoch);
            }
            for (long step = 1; step <= epoch; step++) {
                final long rows = BATCH.dim(0);
                if (!store.get("a").rows((step - 1) * rows, step * rows).contentEquals(batch(step).view())
                    || !store.get("b").rows((step - 1) * rows, step * rows).contentEquals(batch(-step).view())) {
                    throw new AssertionError("merge " + step + " differs");
                }
            }
            if (store.get("a").shape().dim(0) != epoch * BATCH.dim(0)) {
                throw new AssertionError("key a has " + store.get("a").shape() + " after " + epoch + " merges");
            }
            store.verify();
        }
    }
}
