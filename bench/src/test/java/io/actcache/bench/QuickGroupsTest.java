package io.actcache.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.CommandLineOptions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quick profile's groups, over the real benchmark list this module's build generated: no benchmark gets more
 * iterations than its annotations ask for, and each benchmark is in exactly one group.
 */
class QuickGroupsTest {
    @Test
    void theReferenceMergeKeepsItsNoWarmUpAndTheOthersGetTheQuickCounts() throws Exception {
        final List<QuickGroups.Group> groups = QuickGroups.of(new CommandLineOptions("\\.MergeBenchmark\\."));
        final QuickGroups.Group reference = only(groups, "io.actcache.bench.MergeBenchmark.reference");
        assertEquals(0, reference.warmups());
        // Its annotation asks for 2 measured iterations: fewer than the profile's 4.
        assertEquals(2, reference.measurements());
        final QuickGroups.Group store = only(groups, "io.actcache.bench.MergeBenchmark.oursStore");
        assertEquals(QuickGroups.WARMUP, store.warmups());
        assertEquals(QuickGroups.MEASUREMENT, store.measurements());
        assertEquals(5, groups.stream().mapToInt(g -> g.members().size()).sum(), groups.toString());
        assertTrue(QuickGroups.others(groups, reference).contains("io.actcache.bench.MergeBenchmark.oursStore"));
        assertTrue(!QuickGroups.others(groups, reference).contains("io.actcache.bench.MergeBenchmark.reference"));
    }

    @Test
    void excludesAndUnmatchedIncludesAreHonoured() throws Exception {
        assertTrue(QuickGroups.of(new CommandLineOptions("NoSuchBenchmark")).isEmpty());
        final List<QuickGroups.Group> groups = QuickGroups.of(new CommandLineOptions("\\.MergeBenchmark\\.", "-e",
            "reference"));
        assertTrue(groups.stream().noneMatch(g -> g.members().contains("io.actcache.bench.MergeBenchmark.reference")),
            groups.toString());
        assertEquals(1, groups.size(), groups.toString());
    }

    private static QuickGroups.Group only(final List<QuickGroups.Group> groups, final String name) {
        final List<QuickGroups.Group> found = groups.stream().filter(g -> g.members().contains(name)).toList();
        assertEquals(1, found.size(), name + " in " + groups);
        return found.get(0);
    }
}
