package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * The deterministic workload of the crash tests: commit number {@code step} (1, 2, ...) is always the same
 * operation (appends to several keys, a replace, a removal, list items), so a parent process can compute the
 * exact expected contents at any epoch and compare them with what a killed child left.
 */
final class CrashModel {
    static final String[] KEYS = {"k0", "k1", "k2", "k3", "k4", "k5"};
    static final String LIST_KEY = "pattern";
    static final int WIDTH = 33;

    private CrashModel() {
    }

    /** A piece of a key's expected value: rows of {@code width} (or a list item of size n) regenerated from a seed. */
    record Piece(long seed, int rows, int width) {
        Tensor tensor(final boolean listItem) {
            return TestData.random(DType.F32, listItem ? Shape.of(1, rows, rows) : Shape.of(rows, width), seed);
        }
    }

    /**
     * Commits step {@code step} as exactly one commit.
     *
     * @param store the store, at epoch step - 1.
     * @param step  the step.
     */
    static void commit(final ActivationStore store, final long step) {
        commit(store, step, WIDTH);
    }

    /**
     * Commits step {@code step} with rows {@code width} floats wide (wide rows complete checksum blocks often).
     *
     * @param store the store, at epoch step - 1.
     * @param step  the step.
     * @param width floats per row of the DENSE keys.
     */
    static void commit(final ActivationStore store, final long step, final int width) {
        final SplittableRandom random = new SplittableRandom(step * 1_000_003L);
        final int op = random.nextInt(10);
        try (ActivationStore.Batch batch = store.batch()) {
            if (op < 6) {
                final int count = 2 + random.nextInt(3);
                for (int i = 0; i < count; i++) {
                    final int k = random.nextInt(KEYS.length);
                    batch.append(KEYS[k], new Piece(step * 100 + i, 1 + random.nextInt(4), width).tensor(false));
                }
                if (random.nextBoolean()) {
                    batch.appendToList(LIST_KEY, new Piece(step * 100 + 50, 2 + random.nextInt(6), width).tensor(true)
                        .view());
                }
            } else if (op < 8) {
                batch.put(KEYS[random.nextInt(KEYS.length)], new Piece(step * 100 + 60, 1 + random.nextInt(3), width)
                    .tensor(false));
            } else {
                final String key = KEYS[random.nextInt(KEYS.length)];
                if (store.contains(key)) {
                    batch.remove(key);
                } else {
                    batch.append(key, new Piece(step * 100 + 70, 2, width).tensor(false));
                }
            }
            batch.commit();
        }
    }

    /**
     * Replays steps 1..epoch on paper.
     *
     * @param epoch the epoch.
     * @param width floats per row of the DENSE keys.
     * @return each key's expected pieces.
     */
    static Map<String, List<Piece>> expected(final long epoch, final int width) {
        final Map<String, List<Piece>> state = new TreeMap<>();
        for (long step = 1; step <= epoch; step++) {
            final SplittableRandom random = new SplittableRandom(step * 1_000_003L);
            final int op = random.nextInt(10);
            if (op < 6) {
                final int count = 2 + random.nextInt(3);
                for (int i = 0; i < count; i++) {
                    final int k = random.nextInt(KEYS.length);
                    state.computeIfAbsent(KEYS[k], key -> new ArrayList<>())
                        .add(new Piece(step * 100 + i, 1 + random.nextInt(4), width));
                }
                if (random.nextBoolean()) {
                    state.computeIfAbsent(LIST_KEY, key -> new ArrayList<>())
                        .add(new Piece(step * 100 + 50, 2 + random.nextInt(6), width));
                }
            } else if (op < 8) {
                final String key = KEYS[random.nextInt(KEYS.length)];
                state.put(key, new ArrayList<>(List.of(new Piece(step * 100 + 60, 1 + random.nextInt(3), width))));
            } else {
                final String key = KEYS[random.nextInt(KEYS.length)];
                if (state.containsKey(key)) {
                    state.remove(key);
                } else {
                    state.put(key, new ArrayList<>(List.of(new Piece(step * 100 + 70, 2, width))));
                }
            }
        }
        return state;
    }

    /**
     * Checks that the store holds exactly the expected state of its epoch.
     *
     * @param store an open store.
     */
    static void assertMatches(final ActivationStore store) {
        assertMatches(store, WIDTH);
    }

    /**
     * @param store an open store.
     * @param width the row width its steps were committed with.
     */
    static void assertMatches(final ActivationStore store, final int width) {
        final Map<String, List<Piece>> expected = expected(store.epoch(), width);
        if (!expected.keySet().equals(new java.util.TreeSet<>(store.keys()))) {
            throw new AssertionError("epoch " + store.epoch() + ": keys " + store.keys() + ", expected "
                + expected.keySet());
        }
        for (final Map.Entry<String, List<Piece>> entry : expected.entrySet()) {
            if (entry.getKey().equals(LIST_KEY)) {
                final List<TensorView> items = store.getList(LIST_KEY);
                if (items.size() != entry.getValue().size()) {
                    throw new AssertionError("epoch " + store.epoch() + ": list has " + items.size() + " items, expected "
                        + entry.getValue().size());
                }
                for (int i = 0; i < items.size(); i++) {
                    if (!items.get(i).contentEquals(entry.getValue().get(i).tensor(true).view())) {
                        throw new AssertionError("epoch " + store.epoch() + ": list item " + i + " differs");
                    }
                }
                continue;
            }
            final TensorView column = store.get(entry.getKey());
            long row = 0;
            for (final Piece piece : entry.getValue()) {
                final TensorView rows = column.rows(row, row + piece.rows());
                if (!rows.contentEquals(piece.tensor(false).view())) {
                    throw new AssertionError("epoch " + store.epoch() + ": key " + entry.getKey() + " rows [" + row
                        + ", " + (row + piece.rows()) + ") differ");
                }
                row += piece.rows();
            }
            if (row != column.shape().dim(0)) {
                throw new AssertionError("epoch " + store.epoch() + ": key " + entry.getKey() + " has "
                    + column.shape().dim(0) + " rows, expected " + row);
            }
        }
    }
}
