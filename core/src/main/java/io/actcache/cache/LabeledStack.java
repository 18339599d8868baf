package io.actcache.cache;

import io.actcache.tensor.TensorView;

import java.util.List;

/**
 * A stack of residual-stream components (leading dim: component) and a label for each, as TransformerLens's
 * {@code return_labels=True} gives them ({@code 0_pre}, {@code 1_mid}, {@code final_post}, {@code embed},
 * {@code 3_attn_out}, ...). The stack is a view computed when read.
 */
public final class LabeledStack {
    private final TensorView stack;
    private final List<String> labels;

    LabeledStack(final TensorView stack, final List<String> labels) {
        this.stack = stack;
        this.labels = List.copyOf(labels);
    }

    /** @return the stack, {@code [components, ...]}. */
    public TensorView stack() {
        return stack;
    }

    /** @return one label per component, in order. */
    public List<String> labels() {
        return labels;
    }

    @Override
    public String toString() {
        return "LabeledStack[" + stack.dtype() + " " + stack.shape() + ", " + labels + "]";
    }
}
