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
}
