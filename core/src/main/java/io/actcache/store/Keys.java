package io.actcache.store;

import io.actcache.InvalidKeyException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Rules for keys, and the "did you mean" search for error messages. A key is untrusted text: it never becomes a
 * file name (files are named by column id).
 */
public final class Keys {
    /** Longest key, in UTF-8 bytes. */
    public static final int MAX_KEY_BYTES = 1024;

    private Keys() {
    }

    /**
     * @param key a key to check.
     * @return the key.
     * @throws InvalidKeyException naming the key (escaped) and the rule it breaks.
     */
    public static String validate(final String key) {
        if (key == null) {
            throw new InvalidKeyException("key must not be null");
        }
        if (key.isEmpty()) {
            throw new InvalidKeyException("key must not be empty");
        }
        for (int i = 0; i < key.length(); i++) {
            final char c = key.charAt(i);
            if (Character.isISOControl(c)) {
                throw new InvalidKeyException("key '" + escape(key) + "' holds control character U+"
                    + String.format("%04X", (int) c) + " at index " + i);
            }
            if (Character.isSurrogate(c) && !isPairedSurrogate(key, i)) {
                throw new InvalidKeyException("key '" + escape(key) + "' holds an unpaired surrogate at index " + i);
            }
        }
        final int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            throw new InvalidKeyException("key '" + escape(key.substring(0, 40)) + "...' is " + bytes
                + " UTF-8 bytes, above the limit of " + MAX_KEY_BYTES);
        }
        return key;
    }

    /**
     * @param missing  a key that was not found.
     * @param existing the keys that exist.
     * @param limit    most suggestions.
     * @return up to {@code limit} existing keys closest to {@code missing} by edit distance, closest first.
     */
    public static List<String> closest(final String missing, final Collection<String> existing, final int limit) {
        final List<String> candidates = new ArrayList<>(existing);
        final int[] distances = new int[candidates.size()];
        final List<Integer> order = new ArrayList<>(candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            distances[i] = editDistance(missing, candidates.get(i));
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingInt(i -> distances[i]).thenComparing(candidates::get));
        final List<String> result = new ArrayList<>(limit);
        for (int i = 0; i < Math.min(limit, order.size()); i++) {
            result.add(candidates.get(order.get(i)));
        }
        return result;
    }

    /**
     * @param key any text.
     * @return the text with control characters shown as {@code \\uXXXX}, for messages.
     */
    public static String escape(final String key) {
        final StringBuilder out = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            final char c = key.charAt(i);
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isPairedSurrogate(final String key, final int i) {
        final char c = key.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(key.charAt(i - 1));
    }

    private static int editDistance(final String a, final String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                final int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            final int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
