package io.actcache.interop;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportFileNamesTest {
    private static final List<String> KEYS = List.of("blocks.0.hook_resid_post", "resid_out_3", "a/b", "../../etc",
        ".hidden", "..", ".", "100%", "tab\tkey", "é", "日本語", "a%2Fb", "x~y", "k".repeat(1024), "é".repeat(512),
        "k".repeat(300) + "1", "k".repeat(300) + "2");

    @Test
    void shouldKeepPlainKeysAndEncodeTheRestSafelyAndDistinctly() {
        assertEquals("blocks.0.hook_resid_post", ExportFileNames.encode("blocks.0.hook_resid_post"));
        assertEquals("a%2Fb", ExportFileNames.encode("a/b"));
        assertEquals("%2E.", ExportFileNames.encode(".."), "no name starts with a dot");
        assertEquals("100%25", ExportFileNames.encode("100%"));
        final Set<String> names = new HashSet<>();
        for (final String key : KEYS) {
            final String name = ExportFileNames.encode(key);
            assertTrue(name.matches("[A-Za-z0-9_%~-][A-Za-z0-9_.%~-]*"), name);
            assertTrue(name.length() <= ExportFileNames.MAX_NAME, name);
            assertTrue(names.add(name), "distinct: " + name);
            if (name.indexOf('~') < 0) {
                assertEquals(key, ExportFileNames.decode(name), name);
            }
        }
    }

    @Test
    void shouldLeaveNamesItDidNotMakeAsTheyAre() {
        assertEquals("resid 3", ExportFileNames.decode("resid 3"));
        assertEquals("x%zz", ExportFileNames.decode("x%zz"));
        assertEquals("x%2f", ExportFileNames.decode("x%2f"));
        assertEquals("%C3", ExportFileNames.decode("%C3"), "not UTF-8");
        assertEquals("a/b", ExportFileNames.decode("a%2Fb"));
    }
}
