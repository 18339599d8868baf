package io.actcache.store;

import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.ChildJvm;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A child JVM with a 128 MiB heap appends about 3 GiB (48 keys x 64 MiB, in 4 MiB batches) and reads every byte
 * back against checksums; a second child JVM reopens the store and verifies it again.
 */
class LargerThanHeapTest {
    static final int KEYS = 48;
    static final int BATCHES = 16;
    static final Shape BATCH = Shape.of(1024, 1024);

    @TempDir
    Path tmp;

    @Test
    void shouldWriteAndVerifyThreeGibibytesWithA128MibHeapAcrossTwoProcesses() throws Exception {
        final Path dir = tmp.resolve("big");
        final List<String> smallHeap = List.of("-Xmx128m");
        final ChildJvm.Result write = ChildJvm.run(smallHeap, true, 600, Writer.class, dir.toString());
        assertEquals(0, write.exitCode(), write.describe());
        assertTrue(write.stdout().contains("verified " + KEYS + " keys"), write.describe());
        final ChildJvm.Result reopen = ChildJvm.run(smallHeap, true, 600, Verifier.class, dir.toString());
        assertEquals(0, reopen.exitCode(), reopen.describe());
        assertTrue(reopen.stdout().contains("verified " + KEYS + " keys"), reopen.describe());
        assertTrue(reopen.stdout().contains("bytes " + (long) KEYS * BATCHES * BATCH.byteSize(DType.F32)),
            reopen.describe());
    }

    static String key(final int k) {
        return "blocks." + k + ".hook_resid_post";
    }

    static long seed(final int key, final int batch) {
        return key * 1_000_003L + batch;
    }

    /** The CRC32C a column must have, computed from regenerated batches, not from the store. */
    static long expectedCrc(final int key, final Tensor scratch) {
        final CRC32C crc = new CRC32C();
        for (int b = 0; b < BATCHES; b++) {
            TestData.fill(scratch, seed(key, b));
            crc.update(scratch.buffer());
        }
        return crc.getValue();
    }

    static void verify(final ActivationStore store) {
        final Tensor scratch = Tensor.allocate(DType.F32, BATCH);
        long bytes = 0;
        for (int k = 0; k < KEYS; k++) {
            final TensorView column = store.get(key(k));
            if (!column.shape().equals(BATCH.withDim0(BATCH.dim(0) * BATCHES))) {
                throw new AssertionError(key(k) + " has shape " + column.shape());
            }
            final long actual = column.crc32c();
            final long expected = expectedCrc(k, scratch);
            if (actual != expected) {
                throw new AssertionError(key(k) + " CRC32C " + Long.toHexString(actual) + " != "
                    + Long.toHexString(expected));
            }
            bytes += column.byteSize();
        }
        System.out.println("verified " + store.size() + " keys, bytes " + bytes + ", heap max "
            + Runtime.getRuntime().maxMemory());
    }

    /** Child 1: writes and verifies. */
    public static final class Writer {
        public static void main(final String[] args) {
            final StoreOptions options = StoreOptions.builder().durability(Durability.PROCESS).build();
            try (ActivationStore store = ActivationStore.create(Path.of(args[0]), options)) {
                final Tensor batch = Tensor.allocate(DType.F32, BATCH);
                for (int b = 0; b < BATCHES; b++) {
                    try (ActivationStore.Batch commit = store.batch()) {
                        for (int k = 0; k < KEYS; k++) {
                            TestData.fill(batch, seed(k, b));
                            commit.append(key(k), batch);
                        }
                        commit.commit();
                    }
                }
                verify(store);
            }
        }
    }

    /** Child 2: reopens and verifies. */
    public static final class Verifier {
        public static void main(final String[] args) {
            try (ActivationStore store = ActivationStore.open(Path.of(args[0]))) {
                verify(store);
            }
        }
    }
}
