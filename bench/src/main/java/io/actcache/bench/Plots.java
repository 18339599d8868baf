package io.actcache.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * PNG line plots (XChart) of whatever the run measured: for every benchmark group and every parameter that took two
 * or more numeric values in it, one chart with that parameter on the x axis and one series per contender and
 * combination of its other parameters. The y axis is throughput (GB/s) where the bytes per operation are known,
 * else time per operation (ms); error bars are the 99.9% intervals (absent where too few samples gave none), cut
 * at the chart's edges, which fit the values (0 to 1.5 times the largest).
 * Peers timed beside a benchmark ({@link PeerResults}) share its group, so they appear on its charts.
 */
public final class Plots {
    private static final int WIDTH = 960;
    private static final int HEIGHT = 600;

    private Plots() {
    }

    /**
     * @param measurements everything measured.
     * @param dir          where the PNG files go (it exists).
     * @return the files written, named {@code <group>-<param>-<throughput|time>.png}, in a stable order.
     * @throws UncheckedIOException naming the file when one cannot be written.
     */
    public static List<Path> write(final List<Measurement> measurements, final Path dir) {
        final List<Path> written = new ArrayList<>();
        final Map<String, List<Measurement>> groups = new TreeMap<>();
        for (final Measurement measurement : measurements) {
            groups.computeIfAbsent(measurement.group(), group -> new ArrayList<>()).add(measurement);
        }
        for (final Map.Entry<String, List<Measurement>> group : groups.entrySet()) {
            for (final String param : numericParams(group.getValue())) {
                for (final Axis axis : Axis.values()) {
                    final List<Measurement> points = group.getValue().stream()
                        .filter(m -> m.params().containsKey(param) && Axis.of(m) == axis).toList();
                    if (distinctValues(points, param) >= 2) {
                        final Path file = dir.resolve(group.getKey() + "-" + param + "-" + axis.fileSuffix + ".png");
                        save(chart(group.getKey(), param, axis, points), file);
                        written.add(file);
                    }
                }
            }
        }
        return written;
    }

    /** What the y axis shows. */
    enum Axis {
        THROUGHPUT("throughput", "GB/s (higher is better)"),
        TIME("time", "ms per operation (lower is better)");

        final String fileSuffix;
        final String title;

        Axis(final String fileSuffix, final String title) {
            this.fileSuffix = fileSuffix;
            this.title = title;
        }

        /** @return the axis a measurement is plotted on, or null for an operations-per-time score. */
        static Axis of(final Measurement m) {
            if (!m.isTime()) {
                return null;
            }
            return m.bytes() == null ? TIME : THROUGHPUT;
        }

        double value(final Measurement m) {
            return this == THROUGHPUT ? m.gigabytesPerSecond() : m.seconds() * 1e3;
        }

        double error(final Measurement m) {
            final double error = this == THROUGHPUT ? m.gigabytesPerSecondError() : m.error()
                * Measurement.secondsPerTimeUnit(m.unit()) * 1e3;
            return Double.isFinite(error) ? error : 0;
        }
    }

    private static XYChart chart(final String group, final String param, final Axis axis,
        final List<Measurement> points) {
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
            .title(group + ": " + axis.fileSuffix + " vs " + param).xAxisTitle(param).yAxisTitle(axis.title).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setXAxisLogarithmic(points.stream().allMatch(m -> x(m, param) > 0)
            && max(points, param) / min(points, param) >= 8);
        final Map<String, List<Measurement>> series = new LinkedHashMap<>();
        for (final Measurement m : points) {
            final Map<String, String> rest = new TreeMap<>(m.params());
            rest.remove(param);
            final String name = m.name() + (rest.isEmpty() ? "" : " " + rest.toString().replaceAll("[{}]", ""));
            series.computeIfAbsent(name, key -> new ArrayList<>()).add(m);
        }
        // A few samples give 99.9% intervals wider than the values; the axis is fitted to the values, not to them.
        final double top = points.stream().mapToDouble(axis::value).filter(Double::isFinite).max().orElse(1);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(top * 1.5);
        for (final Map.Entry<String, List<Measurement>> entry : series.entrySet()) {
            final List<Measurement> sorted = entry.getValue().stream()
                .sorted((a, b) -> Double.compare(x(a, param), x(b, param))).toList();
            final double[] xs = sorted.stream().mapToDouble(m -> x(m, param)).toArray();
            final double[] ys = sorted.stream().mapToDouble(axis::value).toArray();
            final double[] errors = sorted.stream().mapToDouble(axis::error).toArray();
            chart.addSeries(entry.getKey(), xs, ys, errors);
        }
        return chart;
    }

    private static void save(final XYChart chart, final Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write plot " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the parameters of a group whose values are all numbers, sorted by name. */
    private static TreeSet<String> numericParams(final List<Measurement> group) {
        final TreeSet<String> names = new TreeSet<>();
        group.forEach(m -> names.addAll(m.params().keySet()));
        names.removeIf(name -> group.stream().anyMatch(m -> m.params().containsKey(name)
            && !isNumber(m.params().get(name))));
        return names;
    }

    private static long distinctValues(final List<Measurement> points, final String param) {
        return points.stream().mapToDouble(m -> x(m, param)).distinct().count();
    }

    private static boolean isNumber(final String text) {
        try {
            Double.parseDouble(text);
            return true;
        } catch (final NumberFormatException e) {
            return false;
        }
    }

    private static double x(final Measurement m, final String param) {
        return Double.parseDouble(m.params().get(param));
    }

    private static double min(final List<Measurement> points, final String param) {
        return points.stream().mapToDouble(m -> x(m, param)).min().orElse(1);
    }

    private static double max(final List<Measurement> points, final String param) {
        return points.stream().mapToDouble(m -> x(m, param)).max().orElse(1);
    }
}
