package io.actcache.interop;

import java.nio.file.Path;
import java.util.Comparator;

/**
 * Orders names as people number files: runs of digits compare by their value, so {@code batch_2} comes before
 * {@code batch_10}; other characters compare by code point. Ties between equal values written differently
 * ({@code 7} and {@code 007}) put fewer leading zeros first, and a final plain comparison keeps the order total.
 * Thread-safe.
 */
public final class NaturalOrder implements Comparator<String> {
    /** The comparator. */
    public static final NaturalOrder INSTANCE = new NaturalOrder();
    /** Paths by file name in natural order, then by whole path. */
    public static final Comparator<Path> PATHS =
        Comparator.comparing((Path p) -> String.valueOf(p.getFileName()), INSTANCE).thenComparing(Path::toString);

    private NaturalOrder() {
    }

    @Override
    public int compare(final String a, final String b) {
        int i = 0;
        int j = 0;
        int zerosTie = 0;
        while (i < a.length() && j < b.length()) {
            final char ca = a.charAt(i);
            final char cb = b.charAt(j);
            if (isDigit(ca) && isDigit(cb)) {
                final int endA = digitsEnd(a, i);
                final int endB = digitsEnd(b, j);
                final int startA = skipZeros(a, i, endA);
                final int startB = skipZeros(b, j, endB);
                final int lengthOrder = Integer.compare(endA - startA, endB - startB);
                if (lengthOrder != 0) {
                    return lengthOrder;
                }
                final int valueOrder = a.substring(startA, endA).compareTo(b.substring(startB, endB));
                if (valueOrder != 0) {
                    return valueOrder;
                }
                if (zerosTie == 0) {
                    zerosTie = Integer.compare(startA - i, startB - j);
                }
                i = endA;
                j = endB;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        final int lengthOrder = Integer.compare(a.length() - i, b.length() - j);
        if (lengthOrder != 0) {
            return lengthOrder;
        }
        return zerosTie != 0 ? zerosTie : a.compareTo(b);
    }

    private static boolean isDigit(final char c) {
        return c >= '0' && c <= '9';
    }

    private static int digitsEnd(final String s, final int from) {
        int end = from;
        while (end < s.length() && isDigit(s.charAt(end))) {
            end++;
        }
        return end;
    }

    private static int skipZeros(final String s, final int from, final int end) {
        int start = from;
        while (start < end - 1 && s.charAt(start) == '0') {
            start++;
        }
        return start;
    }
}
