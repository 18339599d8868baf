package io.actcache.cli;

import java.util.Locale;

/**
 * Byte counts for people: binary units (KiB, MiB, GiB, ...) with one decimal, and decimal throughput (GB/s, as
 * disks and memory are rated). Machine-readable output ({@code --json}) carries exact numbers instead.
 */
final class Bytes {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private Bytes() {
    }

    /**
     * @param bytes a non-negative byte count.
     * @return for example {@code "512 B"}, {@code "3.0 MiB"}, {@code "2.8 GiB"}.
     */
    static String human(final long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, UNITS[unit]);
    }

    /**
     * @param bytes   bytes moved.
     * @param seconds time taken.
     * @return for example {@code "1.23 GB/s"} (10^9 bytes per second).
     */
    static String throughput(final long bytes, final double seconds) {
        return String.format(Locale.ROOT, "%.2f GB/s", seconds <= 0 ? 0 : bytes / seconds / 1e9);
    }

    /**
     * Parses a size as people write it: {@code 2GB} and {@code 500MB} in decimal units (as Hugging Face's
     * {@code max_shard_size} reads them), {@code 2GiB} in binary ones, or a plain byte count; case-insensitive,
     * a space before the unit allowed.
     *
     * @param text the size.
     * @return bytes.
     * @throws IllegalArgumentException naming the text when it is not a positive size.
     */
    static long parse(final String text) {
        final java.util.regex.Matcher m = java.util.regex.Pattern
            .compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\\s*").matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 2GB, 500MB, 1GiB, 4096)");
        }
        final String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        final double scale;
        switch (unit) {
            case "kb": scale = 1e3; break;
            case "mb": scale = 1e6; break;
            case "gb": scale = 1e9; break;
            case "tb": scale = 1e12; break;
            case "kib": scale = 1L << 10; break;
            case "mib": scale = 1L << 20; break;
            case "gib": scale = 1L << 30; break;
            case "tib": scale = 1L << 40; break;
            default: scale = 1;
        }
        final double bytes = Double.parseDouble(m.group(1)) * scale;
        if (bytes < 1 || bytes > Long.MAX_VALUE) {
            throw new IllegalArgumentException("not a positive size: '" + text + "'");
        }
        return (long) bytes;
    }
}
