package io.actcache.codec;

import io.actcache.CorruptFileException;
import io.actcache.testing.FuzzChecks;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BlockIndex#ofLastEntry}, the index an append builds to read back a column's partial last block: it holds
 * that block alone whatever the column's length, and refuses an entry the committed length does not place there.
 */
class BlockIndexTest {
    private static final int BLOCK = 4096;
    /** Block number of the last block of a 400 GiB column of 4 KiB blocks. */
    private static final int FAR_BLOCK = 100_000_000;
    private static final long FAR_RAW_OFFSET = (long) FAR_BLOCK * BLOCK;
    private static final long FAR_FILE_OFFSET = 300L << 30;

    @Test
    void shouldHoldOnlyTheLastBlockOfALongColumn() {
        final ByteBuffer entry = BlockIndex.encodeEntry(FAR_RAW_OFFSET, FAR_FILE_OFFSET, 900, 1000, 0x1234);
        // A first, one-block index loads the classes (and LZ4's native library), which the measurement must not see.
        BlockIndex.ofLastEntry(BLOCK, "f.bix", BlockIndex.encodeEntry(0, 100, 900, 1000, 1), 0, 0, 1000);
        final long before = FuzzChecks.allocatedBytes();
        final BlockIndex last = BlockIndex.ofLastEntry(BLOCK, "f.bix", entry, FAR_RAW_OFFSET, 7_000_000_000L,
            FAR_FILE_OFFSET + 900);
        final long allocated = FuzzChecks.allocatedBytes() - before;
        // Holding every block before it took 24 bytes per block: 2.4 GB here.
        assertTrue(allocated < 64 << 10, "ofLastEntry allocated " + allocated + " bytes");
        assertEquals(FAR_BLOCK + 1, last.blocks());
        assertEquals(FAR_FILE_OFFSET, last.fileOffset(FAR_BLOCK));
        assertEquals(900, last.compressedLength(FAR_BLOCK));
        assertEquals(1000, last.rawLength(FAR_BLOCK));
        assertEquals(0x1234, last.crc(FAR_BLOCK));
        assertEquals(FAR_RAW_OFFSET + 1000, last.rawEnd());
        assertEquals(900, last.compressedBytes());
        last.checkEnd(FAR_RAW_OFFSET + 1000, entry.getInt(BlockFileDescriptor.ENTRY_CRC_OFFSET));
    }

    @Test
    void shouldGrowPastTheLastBlockAndSupersedeIt() {
        final BlockIndex last = BlockIndex.ofLastEntry(BLOCK, "f.bix",
            BlockIndex.encodeEntry(FAR_RAW_OFFSET, FAR_FILE_OFFSET, 900, 1000, 1), FAR_RAW_OFFSET, 5,
            FAR_FILE_OFFSET + 900);
        final long fileBytes = FAR_FILE_OFFSET + 900 + 2000 + 3000;
        final ByteBuffer entries = ByteBuffer.allocate(2 * BlockFileDescriptor.ENTRY_LENGTH)
            .put(BlockIndex.encodeEntry(FAR_RAW_OFFSET, FAR_FILE_OFFSET + 900, 2000, BLOCK, 2))
            .put(BlockIndex.encodeEntry(FAR_RAW_OFFSET + BLOCK, FAR_FILE_OFFSET + 2900, 3000, 10, 3)).flip();
        last.add(entries, fileBytes);
        assertEquals(FAR_BLOCK + 2, last.blocks());
        assertEquals(BLOCK, last.rawLength(FAR_BLOCK));
        assertEquals(2, last.crc(FAR_BLOCK));
        assertEquals(FAR_FILE_OFFSET + 2900, last.fileOffset(FAR_BLOCK + 1));
        assertEquals(FAR_RAW_OFFSET + BLOCK + 10, last.rawEnd());
        assertEquals(8, last.entries());
    }

    @Test
    void shouldRefuseALastEntryThatStartsAnywhereButTheLastBlockNamingIt() {
        for (final long rawOffset : new long[] {FAR_RAW_OFFSET - BLOCK, FAR_RAW_OFFSET + BLOCK, 0}) {
            final ByteBuffer entry = BlockIndex.encodeEntry(rawOffset, FAR_FILE_OFFSET, 900, 1000, 1);
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> BlockIndex.ofLastEntry(
                BLOCK, "f.bix", entry, FAR_RAW_OFFSET, 41, FAR_FILE_OFFSET + 900));
            assertTrue(e.getMessage().contains("f.bix") && e.getMessage().contains("entry 41")
                && e.getMessage().contains("starts at raw offset " + rawOffset + ", expected " + FAR_RAW_OFFSET),
                e.getMessage());
        }
    }
}
