package io.actcache.interop;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NaturalOrderTest {
    @Test
    void shouldOrderNumberedBatchFilesByTheirNumbers() {
        final List<String> expected = List.of("batch.safetensors", "batch_0.safetensors", "batch_1.safetensors",
            "batch_2.safetensors", "batch_02.safetensors", "batch_9.safetensors", "batch_10.safetensors",
            "batch_10b.safetensors", "batch_11.safetensors", "batch_100.safetensors",
            "batch_99999999999999999999999.safetensors", "layer1_batch2.npy", "layer1_batch10.npy",
            "layer2_batch1.npy");
        final List<String> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new Random(7));
        shuffled.sort(NaturalOrder.INSTANCE);
        assertEquals(expected, shuffled);
    }

    @Test
    void shouldBeATotalOrderConsistentWithEquals() {
        final List<String> names = List.of("a", "a0", "a00", "a1", "a01", "a10", "b", "", "0", "00", "1x", "x1y2",
            "x1y10", "x01y2");
        for (final String a : names) {
            for (final String b : names) {
                final int ab = Integer.signum(NaturalOrder.INSTANCE.compare(a, b));
                assertEquals(-ab, Integer.signum(NaturalOrder.INSTANCE.compare(b, a)), a + " vs " + b);
                assertEquals(a.equals(b), ab == 0, a + " vs " + b);
                for (final String c : names) {
                    if (ab <= 0 && NaturalOrder.INSTANCE.compare(b, c) <= 0) {
                        assertTrue(NaturalOrder.INSTANCE.compare(a, c) <= 0, a + " <= " + b + " <= " + c);
                    }
                }
            }
        }
    }
}
