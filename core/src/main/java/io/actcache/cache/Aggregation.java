package io.actcache.cache;

import java.util.Locale;
import java.util.Objects;

/**
 * How a key is merged across batches: one of the built-ins or a user {@link AggregationStrategy}. Registered by
 * key pattern in an {@link AggregationRegistry}.
 *
 * <table>
 *   <caption>Built-ins (values are tensors; "batch" is the incoming batch's value for the key)</caption>
 *   <tr><th>aggregation</th><th>value after N batches</th><th>merge writes</th></tr>
 *   <tr><td>{@link #concat()} (default)</td><td>batches joined along dim 0; trailing dims and dtype must
 *       match</td><td>append</td></tr>
 *   <tr><td>{@link #stack()}</td><td>{@code [N, ...batch shape]}: a new leading dim; shapes must match</td>
 *       <td>append</td></tr>
 *   <tr><td>{@link #keepList()}</td><td>a list of N tensors of one dtype, any shapes (ragged)</td>
 *       <td>append to a LIST column</td></tr>
 *   <tr><td>{@link #first()}</td><td>the first batch's value</td><td>nothing</td></tr>
 *   <tr><td>{@link #flatten()}</td><td>every batch's elements in one 1-D tensor (lists of ints such as
 *       {@code offset})</td><td>append</td></tr>
 *   <tr><td>{@link #sum()}</td><td>elementwise sum, F32</td><td>the key's size</td></tr>
 *   <tr><td>{@link #mean()}</td><td>elementwise mean, F32</td><td>twice the key's size</td></tr>
 * </table>
 *
 * <p>Sum and mean accumulate in F32 in one fixed order, so results are reproducible bit for bit: element by
 * element, {@code s = x_1; s = s + x_2; ...; s = s + x_N} with each {@code +} one IEEE-754 binary32 addition
 * (inputs of other dtypes converted to F32 first, F16 and BF16 exactly), in the order the batches were merged;
 * the mean is then {@code s / N}, one correctly rounded binary32 division. A mean keeps its running sum (a
 * hidden column) and N, so merging more batches later gives the same bits as merging them all at once.
 */
public final class Aggregation {
    /** The built-in kinds, and {@code CUSTOM} for a user strategy. */
    enum Kind { CONCAT, STACK, KEEP_LIST, FIRST, FLATTEN, SUM, MEAN, CUSTOM }

    private static final Aggregation CONCAT = new Aggregation(Kind.CONCAT, null);
    private static final Aggregation STACK = new Aggregation(Kind.STACK, null);
    private static final Aggregation KEEP_LIST = new Aggregation(Kind.KEEP_LIST, null);
    private static final Aggregation FIRST = new Aggregation(Kind.FIRST, null);
    private static final Aggregation FLATTEN = new Aggregation(Kind.FLATTEN, null);
    private static final Aggregation SUM = new Aggregation(Kind.SUM, null);
    private static final Aggregation MEAN = new Aggregation(Kind.MEAN, null);

    private final Kind kind;
    private final AggregationStrategy strategy;

    private Aggregation(final Kind kind, final AggregationStrategy strategy) {
        this.kind = kind;
        this.strategy = strategy;
    }

    /** @return join along dim 0 (the default for keys no pattern matches). */
    public static Aggregation concat() {
        return CONCAT;
    }

    /** @return stack along a new leading dim. */
    public static Aggregation stack() {
        return STACK;
    }

    /** @return keep each batch's tensor as one item of a list (ragged shapes allowed). */
    public static Aggregation keepList() {
        return KEEP_LIST;
    }

    /** @return keep the first batch's value (e.g. {@code mapping_index}). */
    public static Aggregation first() {
        return FIRST;
    }

    /** @return flatten each batch to 1-D and join (lists of ints, e.g. {@code offset}). */
    public static Aggregation flatten() {
        return FLATTEN;
    }

    /** @return elementwise sum across batches, accumulated in F32 in merge order. */
    public static Aggregation sum() {
        return SUM;
    }

    /** @return elementwise mean across batches, accumulated in F32 in merge order. */
    public static Aggregation mean() {
        return MEAN;
    }

    /**
     * @param strategy a user strategy.
     * @return an aggregation that calls it.
     */
    public static Aggregation custom(final AggregationStrategy strategy) {
        return new Aggregation(Kind.CUSTOM, Objects.requireNonNull(strategy, "strategy"));
    }

    /** @return the kind. */
    Kind kind() {
        return kind;
    }

    /** @return the user strategy, or null for a built-in. */
    AggregationStrategy strategy() {
        return strategy;
    }

    /** @return true when merging appends to the column (concat, stack, keepList, flatten). */
    public boolean appends() {
        return kind == Kind.CONCAT || kind == Kind.STACK || kind == Kind.KEEP_LIST || kind == Kind.FLATTEN;
    }

    /** @return {@code concat}, {@code keepList}, ... or {@code custom(ClassName)}. */
    @Override
    public String toString() {
        switch (kind) {
            case KEEP_LIST: return "keepList";
            case CUSTOM: return "custom(" + strategy.getClass().getName() + ")";
            default: return kind.name().toLowerCase(Locale.ROOT);
        }
    }
}
