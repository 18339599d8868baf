package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM replaces and removes keys, then compacts with every column rewritten; the parent SIGKILLs it inside
 * each window of the compaction (between column copies, halfway through the journal record, before the headers,
 * before the index, between manifest and journal generation, amid the deletion of old files) and reopens: the
 * store holds either every old column or every new one, never a mix, with every value byte-exact and no file
 * that no key references.
 */
class CompactCrashTest {
    private static final long WINDOW_MILLIS = 150;
    private static final String[] KEYS = {"k0", "k1", "k2", "k3"};
    private static final String LIST_KEY = "pattern";
    private static final String COMPACTING = "compacting";

    @TempDir
    Path tmp;

    /** A kill target: a phase, its occurrence after compaction starts, and whether the rewrite must be visible. */
    private record Target(CrashPoints.Phase phase, int occurrence, boolean committed) {
    }

    @Test
    void shouldLeaveTheOldOrTheNewStateWhereverACompactionIsKilled() throws Exception {
        final List<Target> targets = List.of(
            new Target(CrashPoints.Phase.DATA_WRITE, 1, false),
            new Target(CrashPoints.Phase.DATA_WRITE, 4, false),
            new Target(CrashPoints.Phase.JOURNAL_WRITE, 1, false),
            new Target(CrashPoints.Phase.HEADER_REWRITE, 1, true),
            new Target(CrashPoints.Phase.INDEX_UPDATE, 1, true),
            new Target(CrashPoints.Phase.CHECKPOINT, 1, true),
            new Target(CrashPoints.Phase.COLLECT, 1, true));
        int round = 0;
        for (final Target target : targets) {
            final Path dir = tmp.resolve("round-" + round++);
            createBase(dir);
            final Map<String, Long> idsBefore = killCompactionAt(dir, target);
            try (ActivationStore store = ActivationStore.open(dir)) {
                assertExpectedValues(store, target);
                final Map<String, Long> ids = ids(store);
                assertEquals(idsBefore.keySet(), ids.keySet(), target.toString());
                for (final Map.Entry<String, Long> entry : ids.entrySet()) {
                    final long before = idsBefore.get(entry.getKey());
                    if (target.committed()) {
                        assertTrue(entry.getValue() > before, target + ": " + ids + " vs " + idsBefore);
                    } else {
                        assertEquals(before, entry.getValue(), target + ": " + ids + " vs " + idsBefore);
                    }
                }
                store.verify();
                assertEquals(filesOf(store), columnFiles(dir), target + ": every file in columns/ is referenced");
            }
        }
        final Path dir = tmp.resolve("uninterrupted");
        createBase(dir);
        final ChildJvm.Result done = ChildJvm.run(List.of(), true, 60, Child.class, dir.toString());
        assertEquals(0, done.exitCode(), done.describe());
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertExpectedValues(store, new Target(null, 0, true));
            assertEquals(filesOf(store), columnFiles(dir));
        }
    }

    private static Map<String, Long> killCompactionAt(final Path dir, final Target target) throws Exception {
        final Process child = ChildJvm.start(List.of("-Dactcache.test.crashWindowMillis=" + WINDOW_MILLIS), true,
            Child.class, dir.toString());
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Thread reader = new Thread(() -> readLines(child, lines));
        reader.start();
        final Map<String, Long> idsBefore = new TreeMap<>();
        boolean compacting = false;
        int seen = 0;
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            final String line = lines.poll(1, TimeUnit.SECONDS);
            if (System.nanoTime() > deadline || (line == null && !child.isAlive())) {
                child.destroyForcibly().waitFor();
                throw new AssertionError(target + ": the child never reached the window\n"
                    + new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            if (line == null) {
                continue;
            }
            if (line.startsWith("id ")) {
                final String[] parts = line.split(" ");
                idsBefore.put(parts[1], Long.parseLong(parts[2]));
            } else if (line.equals(COMPACTING)) {
                compacting = true;
            } else if (compacting && line.equals("phase " + target.phase()) && ++seen == target.occurrence()) {
                child.destroyForcibly();
                break;
            }
        }
        child.waitFor();
        reader.join();
        return idsBefore;
    }

    private static void readLines(final Process child, final BlockingQueue<String> lines) {
        try (BufferedReader out = new BufferedReader(
            new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                lines.add(line);
            }
        } catch (final IOException e) {
            // The child was killed mid-line.
        }
    }

    private static void createBase(final Path dir) {
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
            for (int k = 0; k < KEYS.length; k++) {
                store.append(KEYS[k], value(k));
            }
            CompactTest.appendList(store, LIST_KEY, 50);
        }
    }

    private static Tensor value(final int k) {
        return TestData.random(DType.F32, Shape.of(40 + k, 300), 10 + k);
    }

    private static Tensor replacement() {
        return TestData.random(DType.F16, Shape.of(25, 7), 99);
    }

    private static void assertExpectedValues(final ActivationStore store, final Target target) {
        assertEquals(List.of("k0", "k1", "k3", LIST_KEY), store.keys(), target.toString());
        assertTrue(store.get("k0").contentEquals(value(0).view()), target.toString());
        assertTrue(store.get("k1").contentEquals(replacement().view()), target.toString());
        assertTrue(store.get("k3").contentEquals(value(3).view()), target.toString());
        final List<io.actcache.tensor.TensorView> items = store.getList(LIST_KEY);
        assertEquals(3, items.size());
        assertTrue(items.get(1).contentEquals(TestData.random(DType.I32, Shape.of(1200), 51).view()));
        assertFalse(store.contains("k2"));
    }

    private static Map<String, Long> ids(final ActivationStore store) {
        final Map<String, Long> ids = new TreeMap<>();
        store.descriptors().forEach((key, descriptor) -> ids.put(key, descriptor.columnId()));
        return ids;
    }

    private static Set<String> filesOf(final ActivationStore store) {
        final Set<String> names = new TreeSet<>();
        final Map<Long, ColumnKind> live = new HashMap<>();
        store.descriptors().values().forEach(d -> live.put(d.columnId(), d.kind()));
        live.forEach((id, kind) -> {
            final List<String> extensions = kind == ColumnKind.LIST ? List.of(".list", ".items", ".crc")
                : List.of(".npy", ".crc");
            extensions.forEach(extension -> names.add(id + extension));
        });
        return names;
    }

    private static Set<String> columnFiles(final Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(StoreFiles.COLUMNS))) {
            return files.map(file -> file.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    /** Child: replaces k1, removes k2, prints every key's column id, then compacts rewriting every column. */
    public static final class Child {
        public static void main(final String[] args) {
            try (ActivationStore store = ActivationStore.open(Path.of(args[0]))) {
                store.put("k1", replacement());
                store.remove("k2");
                store.descriptors().forEach((key, descriptor) ->
                    System.out.println("id " + key + " " + descriptor.columnId()));
                System.out.println(COMPACTING);
                System.out.flush();
                store.compact(CompactOptions.builder().rewrite(Pattern.compile(".*")).build());
                System.out.println("compacted");
            }
        }
    }
}
