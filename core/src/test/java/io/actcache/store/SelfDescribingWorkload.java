package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A commit workload whose every value says which commit wrote it, so a reader in another process can check that
 * what it sees is one whole committed state without knowing the writer's history.
 *
 * <p>Keys {@code g0..g5} are I64 {@code [rows, 8]} columns; each row is {@code [epoch written, key index, row
 * index, epoch the column was created, three payload words, checksum]}. Each commit appends rows to, replaces
 * ({@code put}) or removes one to three keys, sometimes adds an item to the LIST key {@code log} (rows
 * {@code [epoch, item index, row, checksum]}), sets metadata {@code epoch}, and appends to {@code state} one row
 * describing the whole store after the commit: its epoch, then per key its row count, the epoch of its last
 * write and of its creation, then the item count and last epoch of {@code log}. {@code state} itself is replaced
 * now and then, so its old files are collected too. {@link #check} compares a store with its own last state row.
 * The writer side keeps the model; one thread only.
 */
final class SelfDescribingWorkload {
    static final int KEYS = 6;
    static final int WIDTH = 8;
    static final String STATE = "state";
    static final String LOG = "log";
    static final int STATE_WIDTH = 1 + 3 * KEYS + 2;
    private static final int LOG_WIDTH = 4;

    private final long[] rows = new long[KEYS];
    private final long[] last = new long[KEYS];
    private final long[] created = new long[KEYS];
    private final SplittableRandom random;
    private long logItems;
    private long logLast;
    private long stateRows;

    SelfDescribingWorkload(final long seed) {
        this.random = new SplittableRandom(seed);
    }

    /**
     * Commits the next step as one batch.
     *
     * @param store a writer whose every commit came from this workload.
     */
    void commit(final ActivationStore store) {
        final long epoch = store.epoch() + 1;
        try (ActivationStore.Batch batch = store.batch()) {
            final List<Integer> keys = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5));
            final int touched = 1 + random.nextInt(3);
            for (int t = 0; t < touched; t++) {
                final int k = keys.remove(random.nextInt(keys.size()));
                final double op = random.nextDouble();
                if (op < 0.08 && rows[k] > 0) {
                    batch.remove(key(k));
                    rows[k] = 0;
                    last[k] = 0;
                    created[k] = 0;
                } else if (op < 0.2 || rows[k] == 0) {
                    final int n = 1 + random.nextInt(3);
                    batch.put(key(k), rows(k, 0, n, epoch, epoch));
                    rows[k] = n;
                    last[k] = epoch;
                    created[k] = epoch;
                } else {
                    final int n = 1 + random.nextInt(4);
                    batch.append(key(k), rows(k, rows[k], n, epoch, created[k]));
                    rows[k] += n;
                    last[k] = epoch;
                }
            }
            if (random.nextInt(10) == 0) {
                batch.appendToList(LOG, logItem(logItems, epoch).view());
                logItems++;
                logLast = epoch;
            }
            batch.putMetadata("epoch", Long.toString(epoch));
            final Tensor state = stateRow(epoch);
            if (stateRows == 0 || random.nextInt(100) == 0) {
                batch.put(STATE, state);
                stateRows = 1;
            } else {
                batch.append(STATE, state);
                stateRows++;
            }
            batch.commit();
        }
    }

    /**
     * Checks that a store holds exactly the state its last {@code state} row describes, at its epoch.
     *
     * @param store a store written by this workload.
     * @return what is wrong, or an empty list.
     */
    static List<String> check(final ActivationStore store) {
        final List<String> wrong = new ArrayList<>();
        final long epoch = store.epoch();
        final TensorView state = store.get(STATE);
        final long base = (state.shape().dim(0) - 1) * STATE_WIDTH;
        if (state.getLong(base) != epoch) {
            wrong.add("epoch " + epoch + ": the last state row is of epoch " + state.getLong(base));
            return wrong;
        }
        if (!Long.toString(epoch).equals(store.metadata().get("epoch"))) {
            wrong.add("epoch " + epoch + ": metadata epoch is " + store.metadata().get("epoch"));
        }
        final TreeSet<String> expectedKeys = new TreeSet<>(List.of(STATE));
        for (int k = 0; k < KEYS; k++) {
            final long n = state.getLong(base + 1 + k);
            final long lastWrite = state.getLong(base + 1 + KEYS + k);
            final long creation = state.getLong(base + 1 + 2 * KEYS + k);
            if (n == 0) {
                continue;
            }
            expectedKeys.add(key(k));
            checkKey(store, k, n, lastWrite, creation, wrong);
        }
        final long items = state.getLong(base + 1 + 3 * KEYS);
        if (items > 0) {
            expectedKeys.add(LOG);
            checkLog(store, items, state.getLong(base + 2 + 3 * KEYS), wrong);
        }
        if (!expectedKeys.equals(new TreeSet<>(store.keys()))) {
            wrong.add("epoch " + epoch + ": keys " + store.keys() + ", its state says " + expectedKeys);
        }
        return wrong;
    }

    private static void checkKey(final ActivationStore store, final int k, final long n, final long lastWrite,
        final long creation, final List<String> wrong) {
        final String where = "epoch " + store.epoch() + ", key " + key(k);
        if (!store.contains(key(k))) {
            wrong.add(where + ": missing, its state says " + n + " rows");
            return;
        }
        final TensorView view = store.get(key(k));
        if (!view.shape().equals(Shape.of(n, WIDTH))) {
            wrong.add(where + ": shape " + view.shape() + ", its state says " + n + " rows");
            return;
        }
        long previous = creation;
        for (long r = 0; r < n; r++) {
            final long at = r * WIDTH;
            final long written = view.getLong(at);
            long hash = 0;
            for (int c = 0; c < WIDTH - 1; c++) {
                hash = mix(hash, view.getLong(at + c));
            }
            if (hash != view.getLong(at + WIDTH - 1) || view.getLong(at + 1) != k || view.getLong(at + 2) != r
                || view.getLong(at + 3) != creation || written < previous || written > lastWrite
                || r == n - 1 && written != lastWrite || view.getLong(at + 4) != payload(written, k, r)) {
                wrong.add(where + " row " + r + " of " + n + ": " + row(view, at) + "; state: created " + creation
                    + ", last written " + lastWrite);
                return;
            }
            previous = written;
        }
    }

    private static void checkLog(final ActivationStore store, final long items, final long lastWrite,
        final List<String> wrong) {
        final List<TensorView> log = store.getList(LOG);
        if (log.size() != items) {
            wrong.add("epoch " + store.epoch() + ": " + LOG + " has " + log.size() + " items, its state says " + items);
            return;
        }
        long previous = 0;
        for (int i = 0; i < log.size(); i++) {
            final TensorView item = log.get(i);
            final long written = item.getLong(0);
            for (long r = 0; r < item.shape().dim(0); r++) {
                final long at = r * LOG_WIDTH;
                if (item.getLong(at) != written || item.getLong(at + 1) != i || item.getLong(at + 2) != r
                    || item.getLong(at + 3) != mix(mix(mix(0, written), i), r)) {
                    wrong.add("epoch " + store.epoch() + ": " + LOG + " item " + i + " row " + r + " is damaged");
                    return;
                }
            }
            if (written < previous || i == log.size() - 1 && written != lastWrite) {
                wrong.add("epoch " + store.epoch() + ": " + LOG + " item " + i + " of epoch " + written
                    + " out of order (state: last " + lastWrite + ")");
                return;
            }
            previous = written;
        }
    }

    static String key(final int k) {
        return "g" + k;
    }

    private Tensor stateRow(final long epoch) {
        final Tensor row = Tensor.allocate(DType.I64, Shape.of(1, STATE_WIDTH));
        final ByteBuffer bytes = row.buffer();
        bytes.putLong(epoch);
        for (final long[] column : new long[][] {rows, last, created}) {
            for (final long value : column) {
                bytes.putLong(value);
            }
        }
        bytes.putLong(logItems).putLong(logLast);
        return row;
    }

    private static Tensor rows(final int k, final long from, final int n, final long epoch, final long creation) {
        final Tensor tensor = Tensor.allocate(DType.I64, Shape.of(n, WIDTH));
        final ByteBuffer bytes = tensor.buffer();
        for (long r = from; r < from + n; r++) {
            final long[] row = {epoch, k, r, creation, payload(epoch, k, r), epoch ^ r, k * 31L + creation, 0};
            long hash = 0;
            for (int c = 0; c < WIDTH - 1; c++) {
                hash = mix(hash, row[c]);
                bytes.putLong(row[c]);
            }
            bytes.putLong(hash);
        }
        return tensor;
    }

    private static Tensor logItem(final long index, final long epoch) {
        final int n = 1 + (int) (epoch % 3);
        final Tensor item = Tensor.allocate(DType.I64, Shape.of(n, LOG_WIDTH));
        final ByteBuffer bytes = item.buffer();
        for (long r = 0; r < n; r++) {
            bytes.putLong(epoch).putLong(index).putLong(r).putLong(mix(mix(mix(0, epoch), index), r));
        }
        return item;
    }

    private static long payload(final long epoch, final int k, final long r) {
        return mix(mix(epoch, k), r);
    }

    private static String row(final TensorView view, final long at) {
        final StringBuilder text = new StringBuilder("[");
        for (int c = 0; c < WIDTH; c++) {
            text.append(c == 0 ? "" : ", ").append(view.getLong(at + c));
        }
        return text.append(']').toString();
    }

    /** SplitMix64's finalizer over a running value. */
    private static long mix(final long hash, final long value) {
        long z = hash * 0x9E3779B97F4A7C15L + value + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
