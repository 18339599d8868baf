package io.actcache.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Mode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ratios and fits {@link Report} derives for the issue 9 benchmarks, from rows whose scores follow a chosen
 * law, so each expected figure is computed here from that law rather than typed in.
 */
class ReportTest {
    private static final String READ_ONLY = "OpenBenchmark.openReadOnly";

    @Test
    void shouldFitTheFixedCostAndTheCostPerKeyOfOpen() {
        final double fixed = 7.5;
        final double perKey = 0.004;
        final List<Report.Row> rows = new ArrayList<>();
        for (final int keys : new int[] {1000, 10000}) {
            rows.add(open(keys, "1", fixed + perKey * keys));
        }
        final String line = lineStarting(Report.markdown(rows), "| read-only open+close = fixed + per key");
        assertTrue(line.contains(String.format(Locale.ROOT, "| %.3f |", fixed)), line);
        assertTrue(line.contains(String.format(Locale.ROOT, "| %.6f |", perKey)), line);
        assertTrue(line.endsWith("| < 50 ms | yes |"), line);
    }

    @Test
    void shouldMarkAFixedCostOverFiftyMillisecondsAsMissed() {
        final List<Report.Row> rows = List.of(open(1000, "1", 80 + 1), open(10000, "1", 80 + 10));
        final String line = lineStarting(Report.markdown(rows), "| read-only open+close = fixed + per key");
        assertTrue(line.contains(String.format(Locale.ROOT, "| %.3f |", 80.0)), line);
        assertTrue(line.endsWith("| NO |"), line);
    }

    @Test
    void shouldFitEachStoreSizeOnItsOwn() {
        final List<Report.Row> rows = List.of(open(1000, "1", 10 + 1), open(10000, "1", 10 + 10),
            open(1000, "8", 20 + 1), open(10000, "8", 20 + 10));
        final String md = Report.markdown(rows);
        assertTrue(lineStarting(md, "| read-only open+close = fixed + per key [keys 1000..10000] | totalGiB=1 |")
            .contains("| 10.000 |"), md);
        assertTrue(lineStarting(md, "| read-only open+close = fixed + per key [keys 1000..10000] | totalGiB=8 |")
            .contains("| 20.000 |"), md);
    }

    @Test
    void shouldJudgeAColdReadOnlyAgainstABaselineMadeColdTheSameWay() {
        final double ours = 500;
        final double dropped = 400;
        final List<Report.Row> rows = List.of(
            row("ReadBenchmark.cold", Map.of("storeMiB", "256", "coldBy", "drop_caches"), ours),
            row("ReadBenchmark.coldSequentialRead", Map.of("storeMiB", "256", "coldBy", "drop_caches"), dropped),
            // Faster, but measured another way: must not be chosen as the baseline.
            row("ReadBenchmark.coldSequentialRead", Map.of("storeMiB", "256", "coldBy", "o_direct"), 100));
        final String line = lineStarting(Report.markdown(rows), "| read of RAW columns from disk vs cold sequential");
        assertTrue(line.contains(String.format(Locale.ROOT, "| %.3f |", dropped / ours)), line);
        assertTrue(line.endsWith("| >= 0.80 | yes |"), line);
    }

    @Test
    void shouldCompareAppendsOnlyAtTheSameBatchSize() {
        final List<Report.Row> rows = List.of(
            row("AppendBenchmark.store", Map.of("batchKiB", "64"), 400),
            row("AppendBenchmark.channelWrite", Map.of("batchKiB", "64"), 100),
            row("AppendBenchmark.store", Map.of("batchKiB", "4096"), 120),
            row("AppendBenchmark.channelWrite", Map.of("batchKiB", "4096"), 108));
        final String md = Report.markdown(rows);
        final String small = lineStarting(md, "| append vs baseline 2 (best raw write of a fresh file) "
            + "[AppendBenchmark.channelWrite] | batchKiB=64 |");
        assertTrue(small.contains(String.format(Locale.ROOT, "| %.3f |", 100 / 400.0)) && small.endsWith("| NO |"),
            small);
        final String large = lineStarting(md, "| append vs baseline 2 (best raw write of a fresh file) "
            + "[AppendBenchmark.channelWrite] | batchKiB=4096 |");
        assertTrue(large.contains(String.format(Locale.ROOT, "| %.3f |", 108 / 120.0)) && large.endsWith("| yes |"),
            large);
        // Throughput column: the bytes of one invocation over its time.
        assertTrue(md.contains(String.format(Locale.ROOT, "| %.2f GB/s |",
            AppendBenchmark.INVOCATION_BYTES / 0.120 / 1e9)), md);
    }

    @Test
    void shouldLeaveOutFitsWithOneKeyCount() {
        final String md = Report.markdown(List.of(open(10000, "1", 30)));
        assertFalse(md.contains("fixed + per key ["), md);
    }

    private static Report.Row open(final int keys, final String totalGiB, final double ms) {
        return row(READ_ONLY, Map.of("keys", String.valueOf(keys), "totalGiB", totalGiB), ms);
    }

    private static Report.Row row(final String name, final Map<String, String> params, final double ms) {
        return new Report.Row(name, params, Mode.SingleShotTime, ms, ms / 100, "ms/op", ms * 0.9);
    }

    private static String lineStarting(final String markdown, final String prefix) {
        return markdown.lines().filter(line -> line.startsWith(prefix)).findFirst()
            .orElseThrow(() -> new AssertionError("no line starting " + prefix + " in\n" + markdown));
    }
}
