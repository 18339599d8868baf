package io.actcache.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM flags Chronicle Map and Agrona need, read from the resources core generates from the parent pom
 * ({@value #FLAGS}, plus {@value #JDK22_FLAGS} on JDK 22 and later), so no flag is ever typed twice.
 */
public final class JvmFlags {
    /** Flags every JDK needs: exports, opens and system properties, whitespace-separated. */
    public static final String FLAGS = "META-INF/actcache/jvm.flags";
    /** Flags only JDK 22 and later accept. */
    public static final String JDK22_FLAGS = "META-INF/actcache/jvm-jdk22.flags";

    private JvmFlags() {
    }

    /**
     * @return the flags for a JVM of the running JDK's version, in file order.
     * @throws IllegalStateException when {@value #FLAGS} is not on the class path (core not built).
     */
    public static List<String> forRunningJdk() {
        final List<String> flags = new ArrayList<>(read(FLAGS));
        if (Runtime.version().feature() >= 22) {
            flags.addAll(read(JDK22_FLAGS));
        }
        return flags;
    }

    private static List<String> read(final String resource) {
        try (InputStream in = JvmFlags.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is not on the class path; build core first");
            }
            final List<String> flags = new ArrayList<>();
            for (final String flag : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim().split("\\s+")) {
                if (!flag.isEmpty()) {
                    flags.add(flag);
                }
            }
            return flags;
        } catch (final IOException e) {
            throw new IllegalStateException("cannot read resource " + resource + ": " + e, e);
        }
    }
}
