package io.actcache.store;

/**
 * Turns off Chronicle's usage analytics and release announcer. Must run before any Chronicle class loads:
 * {@link ChronicleIndex} calls {@link #apply()} from its static initializer, before it touches Chronicle. The
 * JVM flags in the parent pom set the same properties for every JVM the build starts; this covers a user's
 * JVM started without them. The analytics artifact is also excluded from the dependency tree.
 */
public final class ChronicleSettings {
    /** Properties set, each to {@code "true"}. */
    public static final String[] DISABLING_PROPERTIES = {"chronicle.analytics.disable", "chronicle.announcer.disable"};

    private ChronicleSettings() {
    }

    /** Sets the disabling properties unless the user set them already. */
    public static void apply() {
        for (final String property : DISABLING_PROPERTIES) {
            if (System.getProperty(property) == null) {
                System.setProperty(property, "true");
            }
        }
    }
}
