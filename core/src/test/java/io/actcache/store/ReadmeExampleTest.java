package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Java example of README.md, verbatim apart from the directory, so the README stays true. */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    @Test
    void shouldRunTheReadmeExample() {
        final float[] row = new float[768];
        try (ActivationStore store = ActivationStore.create(tmp.resolve("run-42"), StoreOptions.defaults())) {
            Tensor resid = Tensor.allocate(DType.F32, Shape.of(8, 128, 768));  // off-heap, little-endian
            resid.setFloat(0, 1.5f);
            try (ActivationStore.Batch batch = store.batch()) {                 // one atomic commit
                batch.append("blocks.0.hook_resid_post", resid);                // grows along dim 0
                batch.commit();
            }
            TensorView view = store.get("blocks.0.hook_resid_post").rows(0, 4); // mapped, zero-copy
            view.copyTo(0, row, 0, 768);                                        // F16/BF16 convert to float
            assertEquals(Shape.of(4, 128, 768), view.shape());
        }
        assertEquals(1.5f, row[0]);
        assertEquals(0f, row[1]);
    }
}
