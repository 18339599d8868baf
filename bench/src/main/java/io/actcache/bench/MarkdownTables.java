package io.actcache.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the pipe tables of a Markdown text back as data: each table a list of rows, each row its cells by column
 * header. Lets the suite's JSON carry whatever tables {@link Report} prints without a second copy of its logic.
 */
final class MarkdownTables {
    private MarkdownTables() {
    }

    /**
     * @param markdown text holding tables of the form {@code | a | b |}, a separator line, then rows.
     * @return the tables in order.
     */
    static List<List<Map<String, String>>> parse(final String markdown) {
        final List<List<Map<String, String>>> tables = new ArrayList<>();
        List<String> header = null;
        List<Map<String, String>> rows = null;
        for (final String line : markdown.split("\n")) {
            if (!line.startsWith("|")) {
                header = null;
                continue;
            }
            final List<String> cells = cells(line);
            if (header == null) {
                header = cells;
                rows = new ArrayList<>();
                tables.add(rows);
            } else if (!line.startsWith("|---")) {
                final Map<String, String> row = new LinkedHashMap<>();
                for (int i = 0; i < header.size() && i < cells.size(); i++) {
                    row.put(header.get(i), cells.get(i));
                }
                rows.add(row);
            }
        }
        return tables;
    }

    private static List<String> cells(final String line) {
        final String inner = line.strip().replaceAll("^\\|", "").replaceAll("\\|$", "");
        final List<String> cells = new ArrayList<>();
        for (final String cell : inner.split("\\|", -1)) {
            cells.add(cell.strip());
        }
        return cells;
    }
}
