package io.actcache.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.actcache.CorruptFileException;
import io.actcache.tensor.DType;
import io.actcache.testing.FuzzChecks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static io.actcache.codec.BlockFileDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes the block reader: {@link BlockIndex#add} over block index entries, then {@link BlockReader#read} of every
 * live block from a data file held in memory. Without {@code JAZZER_FUZZ} it runs once per seed (real compressed
 * columns of both codecs, which must read back exactly) and on the empty input; the pom's fuzzing execution mutates
 * them for a bounded time.
 *
 * <p>Input: byte 0 picks the codec (bit 0) and whether to repair CRCs (bit 1: every entry's own CRC and every
 * block's CRC are recomputed, so mutated lengths and LZ4 sequences reach the decompressor); byte 1 is the entry
 * count; then the entries; the rest is the data file. The only allowed failure is {@link CorruptFileException}:
 * never a read or write past a buffer, never another exception, never more memory than the input backs.
 */
class BlockReaderFuzzTest {
    private static final int BLOCK = MIN_BLOCK_SIZE;
    private static long executions;

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void readerNeverFailsUndocumented(final byte[] input) {
        executions++;
        FuzzChecks.withinAllocation(input.length, "BlockReader", () -> readAll(input));
    }

    @AfterAll
    static void ranEnough() {
        FuzzChecks.checkMinimumExecutions(executions, "BlockReaderFuzzTest");
    }

    /** @return the raw bytes of every live block, or null when the input was refused as documented. */
    private static byte[] readAll(final byte[] input) {
        if (input.length < 2) {
            return null;
        }
        final Codec codec = (input[0] & 1) == 0 ? Codec.LZ4 : Codec.SHUFFLE_LZ4;
        final int count = Math.min(input[1] & 0xFF, (input.length - 2) / ENTRY_LENGTH);
        final ByteBuffer entries = ByteBuffer.wrap(input, 2, count * ENTRY_LENGTH).slice()
            .order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer data = ByteBuffer.wrap(input, 2 + count * ENTRY_LENGTH,
            input.length - 2 - count * ENTRY_LENGTH).slice();
        if ((input[0] & 2) != 0) {
            repairCrcs(entries, data);
        }
        try {
            final BlockIndex index = new BlockIndex(BLOCK, "fuzzed.bix");
            index.add(entries, data.capacity());
            final BlockReader reader = new BlockReader(index, new BlockCodec(codec, DType.F32, BLOCK),
                (offset, length) -> data.slice((int) offset, length), "fuzzed.blk");
            final ByteBuffer out = ByteBuffer.allocateDirect(BLOCK);
            final byte[] raw = new byte[(int) index.rawEnd()];
            for (int b = 0; b < index.blocks(); b++) {
                final int length = reader.read(b, out.clear());
                out.get(0, raw, b * BLOCK, length);
            }
            return raw;
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, CorruptFileException.class);
            return null;
        }
    }

    private static void repairCrcs(final ByteBuffer entries, final ByteBuffer data) {
        final CRC32C crc = new CRC32C();
        for (int at = 0; at + ENTRY_LENGTH <= entries.limit(); at += ENTRY_LENGTH) {
            final long offset = entries.getLong(at + FILE_OFFSET_OFFSET);
            final int length = entries.getInt(at + COMPRESSED_LENGTH_OFFSET);
            if (offset >= 0 && length >= 0 && offset <= data.capacity() - length) {
                crc.reset();
                crc.update(data.slice((int) offset, length));
                entries.putInt(at + BLOCK_CRC_OFFSET, (int) crc.getValue());
            }
            crc.reset();
            crc.update(entries.slice(at, ENTRY_CRC_OFFSET));
            entries.putInt(at + ENTRY_CRC_OFFSET, (int) crc.getValue());
        }
    }

    static Stream<Arguments> seeds() {
        final List<Arguments> seeds = new ArrayList<>();
        seeds.add(Arguments.of((Object) new byte[0]));
        for (final Codec codec : new Codec[] {Codec.LZ4, Codec.SHUFFLE_LZ4}) {
            final byte[] raw = activations(3 * BLOCK + 1000, codec.id());
            final byte[] seed = encode(codec, raw);
            assertEquals(Arrays.toString(raw), Arrays.toString(readAll(seed)), "seed must read back");
            seeds.add(Arguments.of((Object) seed));
        }
        return seeds.stream();
    }

    /** Floats with zeros among them, as attention patterns have. */
    private static byte[] activations(final int bytes, final long seed) {
        final Random random = new Random(seed);
        final ByteBuffer out = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (out.remaining() >= Float.BYTES) {
            out.putFloat(random.nextInt(3) == 0 ? 0f : (float) random.nextGaussian());
        }
        return out.array();
    }

    /** A column written as the store writes one: full blocks, then the partial last. */
    private static byte[] encode(final Codec codec, final byte[] raw) {
        final BlockCodec blockCodec = new BlockCodec(codec, DType.F32, BLOCK);
        final ByteBuffer entries = ByteBuffer.allocate(ENTRY_LENGTH * 8);
        final ByteBuffer data = ByteBuffer.allocate(2 * raw.length + 1024);
        data.position(HEADER_LENGTH);
        final ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
        final ByteBuffer compressed = ByteBuffer.allocateDirect(BlockCodec.maxCompressedLength(BLOCK));
        int count = 0;
        for (int at = 0; at < raw.length; at += BLOCK) {
            final int length = Math.min(BLOCK, raw.length - at);
            block.clear().put(raw, at, length);
            final int n = blockCodec.compress(block, length, compressed.clear());
            final byte[] bytes = new byte[n];
            compressed.get(0, bytes);
            final CRC32C crc = new CRC32C();
            crc.update(bytes);
            entries.put(BlockIndex.encodeEntry(at, data.position(), n, length, (int) crc.getValue()));
            data.put(bytes);
            count++;
        }
        final byte[] out = new byte[2 + count * ENTRY_LENGTH + data.position()];
        out[0] = (byte) (codec == Codec.LZ4 ? 0 : 1);
        out[1] = (byte) count;
        System.arraycopy(entries.array(), 0, out, 2, count * ENTRY_LENGTH);
        System.arraycopy(data.array(), 0, out, 2 + count * ENTRY_LENGTH, data.position());
        return out;
    }
}
