package io.actcache.store;

import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.testing.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chronicle, in a child JVM started without the pom's -D flags: the store itself disables analytics and the
 * announcer before Chronicle loads, nothing prints a banner, the analytics artifact is absent, and opening the
 * index compiles no Java at run time (the generated Chronicle-Values class ships prebuilt).
 */
class ChronicleStartupTest {
    private static final String NATIVE_CLASS = "net.openhft.chronicle.hash.VanillaGlobalMutableState$$Native";

    @TempDir
    Path tmp;

    @Test
    void shouldOpenTheIndexSilentlyWithAnalyticsOffAndNoRuntimeCompile() throws Exception {
        final Path classLog = tmp.resolve("classes.log");
        final ChildJvm.Result result = ChildJvm.run(List.of("-Xlog:class+load=info:file=" + classLog), false, 120,
            OpenStore.class, tmp.resolve("store").toString());
        assertEquals(0, result.exitCode(), result.describe());
        assertTrue(result.stdout().contains("chronicle.analytics.disable=true"), result.describe());
        assertTrue(result.stdout().contains("chronicle.announcer.disable=true"), result.describe());
        assertTrue(result.stdout().contains("analytics artifact absent"), result.describe());
        assertEquals("", result.stderr(), "nothing on stderr: " + result.describe());
        for (final String line : result.stdout().split("\n")) {
            assertTrue(line.startsWith("child:"), "unexpected output line: " + line);
        }

        final List<String> loaded = Files.readAllLines(classLog);
        final long javacClasses = loaded.stream().filter(line -> line.contains(" com.sun.tools.javac.")).count();
        assertTrue(javacClasses <= 8, javacClasses + " javac classes loaded: Chronicle compiled code at run time");
        final String nativeLine = loaded.stream().filter(line -> line.contains(NATIVE_CLASS)).findFirst()
            .orElseThrow(() -> new AssertionError(NATIVE_CLASS + " was never loaded"));
        assertFalse(nativeLine.contains("__JVM_DefineClass__") || nativeLine.contains("source: __"),
            "generated at run time: " + nativeLine);
        assertTrue(nativeLine.contains("target/classes") || nativeLine.contains("actcache-core"),
            "should come from our build output: " + nativeLine);
    }

    @Test
    void shouldPrintNoAnnouncerBannerEvenAtInfoLevel() throws Exception {
        final ChildJvm.Result result = ChildJvm.run(List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
            "-Dorg.slf4j.simpleLogger.log.net.openhft=info"), false,
            120, OpenStore.class, tmp.resolve("store").toString());
        assertEquals(0, result.exitCode(), result.describe());
        final String all = (result.stdout() + result.stderr()).replaceAll("(?m)^child:.*$", "")
            .toLowerCase(Locale.ROOT);
        assertTrue(all.contains("chronicle core loaded"), "INFO logging is on: " + result.describe());
        for (final String banner : List.of("announcer", "leave your e-mail", "chronicle.software", "analytics")) {
            assertFalse(all.contains(banner), "banner '" + banner + "' printed: " + result.describe());
        }
        assertFalse(all.contains("unknownhostexception"), result.describe());
    }

    /** Child: opens a writer store (which opens the Chronicle index), writes one key, reports. */
    public static final class OpenStore {
        public static void main(final String[] args) {
            try (ActivationStore store = ActivationStore.create(Path.of(args[0]), StoreOptions.defaults())) {
                store.append("k", Tensor.ofFloats(Shape.of(1), 1f));
            }
            try (ActivationStore store = ActivationStore.open(Path.of(args[0]))) {
                store.append("k", Tensor.ofFloats(Shape.of(1), 2f));
            }
            for (final String property : ChronicleSettings.DISABLING_PROPERTIES) {
                System.out.println("child: " + property + "=" + System.getProperty(property));
            }
            try {
                Class.forName("net.openhft.chronicle.analytics.Analytics");
                System.out.println("child: analytics artifact PRESENT");
            } catch (final ClassNotFoundException e) {
                System.out.println("child: analytics artifact absent");
            }
        }
    }
}
