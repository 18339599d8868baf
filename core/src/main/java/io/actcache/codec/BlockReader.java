package io.actcache.codec;

import io.actcache.CorruptFileException;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Reads live blocks of one block-compressed column: fetches the compressed bytes the {@link BlockIndex} places,
 * decompresses them with the {@link BlockCodec} into exactly the indexed raw length, and checks their CRC32C before
 * it returns (a CRC mismatch is reported before a decoding failure: it explains one).
 * Every failure is a {@link CorruptFileException} naming the file (and key) and the block; nothing is read or written
 * past a buffer. One thread only.
 */
public final class BlockReader {
    /** Where the compressed bytes of a block come from: a mapping of the data file, a copy, a buffer. */
    @FunctionalInterface
    public interface CompressedSource {
        /**
         * @param fileOffset first byte in the data file (inside its committed length, checked by the index).
         * @param length     bytes.
         * @return a buffer holding them from index 0 (capacity at least {@code length}).
         */
        ByteBuffer bytes(long fileOffset, int length);
    }

    private final BlockIndex index;
    private final BlockCodec codec;
    private final CompressedSource source;
    private final String file;
    private final CRC32C crc = new CRC32C();

    /**
     * @param index  the live blocks.
     * @param codec  the column's codec.
     * @param source the data file's bytes.
     * @param file   the data file and key, for messages.
     */
    public BlockReader(final BlockIndex index, final BlockCodec codec, final CompressedSource source,
        final String file) {
        this.index = index;
        this.codec = codec;
        this.source = source;
        this.file = file;
    }

    /** @return the index this reader follows. */
    public BlockIndex index() {
        return index;
    }

    /**
     * Decompresses a block into {@code out} from index 0.
     *
     * @param block a live block.
     * @param out   capacity at least the block's raw length.
     * @return the block's raw length.
     * @throws CorruptFileException naming the file, block and byte ranges when its CRC or decoding fails.
     */
    public int read(final int block, final ByteBuffer out) {
        if (block < 0 || block >= index.blocks()) {
            throw new IndexOutOfBoundsException("block " + block + " of " + file + ": " + index.blocks() + " blocks");
        }
        final long fileOffset = index.fileOffset(block);
        final int length = index.compressedLength(block);
        final int rawLength = index.rawLength(block);
        final ByteBuffer compressed = source.bytes(fileOffset, length);
        // Decode first, check after: the decoder reads the compressed bytes from memory once, and the CRC then runs
        // over bytes in the CPU's cache, about twice as fast. Safe whatever the bytes: the decoder never reads or
        // writes past a buffer, and unless the CRC matches this throws before the caller can use what it produced.
        final String problem = codec.decompress(compressed, length, out, rawLength);
        crc.reset();
        crc.update(compressed.duplicate().clear().limit(length));
        if ((int) crc.getValue() != index.crc(block)) {
            throw new CorruptFileException(String.format("%s: block %d (raw bytes [%d, %d), file bytes [%d, %d)) "
                + "fails its CRC32C: the block index says 0x%08x, computed 0x%08x", file, block,
                (long) block * index.blockSize(), (long) block * index.blockSize() + rawLength, fileOffset,
                fileOffset + length, index.crc(block), (int) crc.getValue()));
        }
        if (problem != null) {
            throw new CorruptFileException(String.format("%s: block %d (raw bytes [%d, %d), file bytes [%d, %d)) "
                + "does not decode: %s", file, block, (long) block * index.blockSize(),
                (long) block * index.blockSize() + rawLength, fileOffset, fileOffset + length, problem));
        }
        return rawLength;
    }
}
