package io.actcache.bench;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Ours against the tools users have today, on the same shapes in the same run: speed ratios of a JMH contender to
 * a Python one ({@link PeerResults}), each the peer's mean time over ours, with the targets of issue 9.
 */
public final class SideBySide {
    /** The comparisons made when both sides ran. */
    static final List<Pair> PAIRS = List.of(
        new Pair("MergeBenchmark.oursStore", "PyTorch.reference",
            "merge into a store vs PyTorch torch.cat per batch per key (reference pattern)", 25, "batches", "64"),
        new Pair("MergeBenchmark.oursStore", "PyTorch.deferred_save",
            "merge into a store vs deferred torch.cat + safetensors save (page cache, as durability PROCESS)", 1.0,
            "batches", "64"),
        new Pair("MergeBenchmark.oursStore", "PyTorch.deferred_save_fsync",
            "merge into a store vs deferred torch.cat + safetensors save + fsync", 0, null, null),
        new Pair("MergeBenchmark.oursStore", "PyTorch.deferred",
            "merge into a store vs in-RAM deferred torch.cat (nothing written)", 0, null, null),
        new Pair("MergeBenchmark.oursHeap", "PyTorch.deferred",
            "merge into a heap cache vs in-RAM deferred torch.cat", 0, null, null),
        new Pair("MergeBenchmark.reference", "PyTorch.reference",
            "Java reference pattern vs PyTorch's (the same algorithm: ~1 says the baseline is fair)", 0, null, null));

    private SideBySide() {
    }

    /**
     * @param jmh   the JMH side.
     * @param peers the Python side.
     * @return one comparison per pair and shared parameter set present on both sides, in {@link #PAIRS} order.
     */
    public static List<Comparison> compare(final List<Measurement> jmh, final List<Measurement> peers) {
        final List<Comparison> comparisons = new ArrayList<>();
        for (final Pair pair : PAIRS) {
            for (final Measurement ours : jmh) {
                if (!ours.name().equals(pair.ours()) || !ours.isTime()) {
                    continue;
                }
                for (final Measurement peer : peers) {
                    // A peer matches when ours shares each of its parameters (ours may have more, e.g. storage).
                    if (peer.name().equals(pair.peer()) && ours.params().entrySet().containsAll(
                        peer.params().entrySet())) {
                        comparisons.add(Comparison.of(pair, ours, peer));
                    }
                }
            }
        }
        return comparisons;
    }

    /**
     * A comparison made when both contenders ran.
     *
     * @param ours    JMH contender, {@code Class.method}.
     * @param peer    Python contender, {@code PyTorch.name}.
     * @param label   what it means.
     * @param min     the target's minimum speed ratio, 0 for report only.
     * @param atParam the parameter the target applies at, or null for every row.
     * @param atValue its value.
     */
    record Pair(String ours, String peer, String label, double min, String atParam, String atValue) {
        String target() {
            if (min == 0) {
                return "report only";
            }
            return ">= " + BigDecimal.valueOf(min).stripTrailingZeros().toPlainString() + "x"
                + (atParam == null ? "" : " at " + atParam + "=" + atValue);
        }
    }

    /**
     * One measured comparison.
     *
     * @param label  what it means.
     * @param ours   our contender.
     * @param peer   the peer.
     * @param params ours's parameters.
     * @param value  speed of ours relative to the peer: the peer's mean time over ours.
     * @param error  first-order propagation of both 99.9% errors (NaN when a side has too few samples).
     * @param ofBest the same ratio of the best samples.
     * @param target the target as text.
     * @param met    "yes", "NO", or "-" where no target applies.
     */
    public record Comparison(String label, String ours, String peer, Map<String, String> params, double value,
        double error, double ofBest, String target, String met) {
        static Comparison of(final Pair pair, final Measurement ours, final Measurement peer) {
            final double value = peer.seconds() / ours.seconds();
            final double ofBest = peer.best() * Measurement.secondsPerTimeUnit(peer.unit())
                / (ours.best() * Measurement.secondsPerTimeUnit(ours.unit()));
            final double relative = Math.hypot(ours.error() / ours.score(), peer.error() / peer.score());
            final boolean judged = pair.min() > 0
                && (pair.atParam() == null || pair.atValue().equals(ours.params().get(pair.atParam())));
            final String met = judged ? (value >= pair.min() ? "yes" : "NO") : "-";
            return new Comparison(pair.label(), ours.name(), peer.name(), new TreeMap<>(ours.params()), value,
                value * relative, ofBest, pair.target(), met);
        }
    }
}
