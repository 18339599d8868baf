package io.actcache.bench;

import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@link MergeBenchmark}'s two contenders, the store and the raw file append, in alternating shots of one JVM: ours,
 * raw, raw, ours, ours, raw, ... so that both see the same machine, the same page-cache history and the same host
 * at the same time. JMH runs each benchmark in its own forks one after another, which on a shared virtual machine
 * lets a contender's shots meet conditions the other's never meet (see docs/PERFORMANCE.md, section 4). Each shot is
 * JMH's: the same batch, a fresh target made before the timing, and the same teardown (files forced, deleted, file
 * system synced) after it; the same {@link MergeBenchmark.JitWarmUp} comes first. A diagnostic beside the JMH
 * figures, not a replacement for them.
 *
 * <p>Usage: {@code java <flags> -cp benchmarks.jar io.actcache.bench.AlternatingMerge [batches] [pairs] [storage]}
 * (defaults 16, 16, disk). Prints every pair, the ratio of the mean times (raw / ours: above 1 means the store is
 * faster) and the median of the pairs' ratios.
 */
public final class AlternatingMerge {
    private AlternatingMerge() {
    }

    /**
     * @param args batches per shot, pairs of shots, storage ({@code disk} or {@code memory}).
     * @throws IOException when a raw append fails.
     */
    public static void main(final String[] args) throws IOException {
        final int batches = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        final int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        final String storage = args.length > 2 ? args[2] : BenchFiles.DISK;
        final MergeBenchmark.Batch batch = new MergeBenchmark.Batch();
        batch.fill();
        new MergeBenchmark.JitWarmUp().warmUp(batch);
        final double[] ratios = new double[pairs];
        double oursTotal = 0;
        double rawTotal = 0;
        for (int pair = 0; pair < pairs; pair++) {
            final double ours;
            final double raw;
            if (pair % 2 == 0) {
                ours = oursShot(batch, batches, storage);
                raw = rawShot(batch, batches, storage);
            } else {
                raw = rawShot(batch, batches, storage);
                ours = oursShot(batch, batches, storage);
            }
            oursTotal += ours;
            rawTotal += raw;
            ratios[pair] = raw / ours;
            System.out.printf(Locale.ROOT, "pair %2d (%s first): ours %.3f s, raw %.3f s, raw / ours %.2f%n", pair,
                pair % 2 == 0 ? "ours" : "raw", ours, raw, ratios[pair]);
        }
        Arrays.sort(ratios);
        System.out.printf(Locale.ROOT, "N = %d, %s, %d pairs: ours %.3f s, raw %.3f s (means); raw / ours %.2f (of the "
            + "means), %.2f (median of the pairs)%n", batches, storage, pairs, oursTotal / pairs, rawTotal / pairs,
            rawTotal / oursTotal, ratios[pairs / 2]);
        batch.close();
    }

    private static double oursShot(final MergeBenchmark.Batch batch, final int batches, final String storage) {
        final MergeBenchmark.StoreTarget target = new MergeBenchmark.StoreTarget();
        target.storage = storage;
        target.create();
        final long start = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            target.cache.cat(batch.cache);
        }
        final long elapsed = System.nanoTime() - start;
        target.delete();
        return elapsed / 1e9;
    }

    private static double rawShot(final MergeBenchmark.Batch batch, final int batches, final String storage)
        throws IOException {
        final MergeBenchmark.RawFiles target = new MergeBenchmark.RawFiles();
        target.storage = storage;
        target.create();
        final long start = System.nanoTime();
        MergeBenchmark.appendRaw(batch, target, batches);
        final long elapsed = System.nanoTime() - start;
        target.delete();
        return elapsed / 1e9;
    }
}
