package io.actcache.cache;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bytes held per key and per key prefix, as a tree whose levels split keys after each {@code .} or {@code _}
 * ({@code blocks.} / {@code blocks.3.} / {@code blocks.3.hook_resid_post}; {@code resid_} / {@code resid_out_} /
 * {@code resid_out_3}). A chain of prefixes with one child each prints as one line. Sizes print in binary (IEC)
 * units: {@code 1 KiB = 1024 B}.
 */
public final class MemoryTree {
    private final String prefix;
    private final TreeMap<String, MemoryTree> children = new TreeMap<>();
    private long bytes;
    private boolean isKey;

    private MemoryTree(final String prefix) {
        this.prefix = prefix;
    }

    /**
     * @param sizes bytes per key.
     * @return the tree.
     */
    public static MemoryTree of(final Map<String, Long> sizes) {
        final MemoryTree root = new MemoryTree("");
        sizes.forEach((key, size) -> {
            root.bytes += size;
            MemoryTree node = root;
            for (int i = 0; i < key.length(); i++) {
                final char c = key.charAt(i);
                if (c == '.' || c == '_' || i == key.length() - 1) {
                    final String part = key.substring(0, i + 1);
                    node = node.children.computeIfAbsent(part, MemoryTree::new);
                    node.bytes += size;
                }
            }
            node.isKey = true;
        });
        return root;
    }

    /** @return the prefix this node covers; empty for the root. */
    public String prefix() {
        return prefix;
    }

    /** @return total bytes of every key under this node. */
    public long bytes() {
        return bytes;
    }

    /**
     * @param bytes a byte count.
     * @return it in IEC units with one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 12.0 MiB}.
     */
    public static String human(final long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /** @return the tree, one indented line per node: prefix, human size and exact bytes. */
    @Override
    public String toString() {
        final StringBuilder out = new StringBuilder();
        out.append("total ").append(human(bytes)).append(" (").append(bytes).append(" B)\n");
        children.values().forEach(child -> child.render(out, 1));
        return out.toString();
    }

    /**
     * The tree without its keys, for stores with too many keys to list twice: every prefix that groups keys
     * (chains of one child collapsed as in {@link #toString()}), depth first, with its total bytes.
     *
     * @return prefix to bytes, in tree order; the root is not included.
     */
    public Map<String, Long> prefixBytes() {
        final Map<String, Long> prefixes = new java.util.LinkedHashMap<>();
        children.values().forEach(child -> child.collectPrefixes(prefixes));
        return prefixes;
    }

    private void collectPrefixes(final Map<String, Long> prefixes) {
        final MemoryTree node = collapsed();
        if (!node.isKey || !node.children.isEmpty()) {
            prefixes.put(node.prefix, node.bytes);
        }
        node.children.values().forEach(child -> child.collectPrefixes(prefixes));
    }

    private MemoryTree collapsed() {
        MemoryTree node = this;
        while (!node.isKey && node.children.size() == 1) {
            node = node.children.firstEntry().getValue();
        }
        return node;
    }

    private void render(final StringBuilder out, final int depth) {
        final MemoryTree node = collapsed();
        out.append("  ".repeat(depth)).append(node.prefix).append("  ").append(human(node.bytes)).append(" (")
            .append(node.bytes).append(" B)\n");
        for (final MemoryTree child : node.children.values()) {
            child.render(out, depth + 1);
        }
    }
}
