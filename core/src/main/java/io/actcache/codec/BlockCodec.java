package io.actcache.codec;

import io.actcache.tensor.DType;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.nio.ByteBuffer;

/**
 * Compresses and decompresses single blocks of one column's codec and dtype. One thread only (it owns a scratch
 * buffer for the shuffle); the store keeps one per codec and dtype for its reads and one per writer.
 *
 * <p>Design note: lz4-java's {@code fastDecompressor} trusts the caller's decompressed length and, in the
 * original artifact, could read and write out of bounds on crafted input (CVE-2025-12183). We only use
 * {@link LZ4Factory#fastestInstance()}'s {@link LZ4SafeDecompressor}, which bounds every read by the compressed
 * length and every write by the destination's capacity, decompress into a destination of exactly the block's
 * indexed raw length, and check the length it returns; the block's CRC32C is checked before its bytes are used.
 * The fork (at.yawk.lz4 1.13.0) also clears the CVE-2025-66566 leak of the Java decompressors.
 */
public final class BlockCodec {
    private static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();

    private final Codec codec;
    private final int elementSize;
    private final int blockSize;
    private final LZ4Compressor compressor = FACTORY.fastCompressor();
    private final LZ4SafeDecompressor decompressor = FACTORY.safeDecompressor();
    private final ByteBuffer scratch;

    /**
     * @param codec     a block-compressed codec.
     * @param dtype     the column's dtype (its width is the shuffle stride).
     * @param blockSize raw bytes per block.
     */
    public BlockCodec(final Codec codec, final DType dtype, final int blockSize) {
        if (!codec.isBlockCompressed()) {
            throw new IllegalArgumentException(codec + " is not a block-compressed codec");
        }
        this.codec = codec;
        this.elementSize = dtype.byteWidth();
        this.blockSize = blockSize;
        this.scratch = codec == Codec.SHUFFLE_LZ4 ? ByteBuffer.allocateDirect(blockSize) : null;
    }

    /** @return the codec. */
    public Codec codec() {
        return codec;
    }

    /**
     * @param blockSize raw bytes per block.
     * @return the most bytes a compressed block can take.
     */
    public static int maxCompressedLength(final int blockSize) {
        return FACTORY.fastCompressor().maxCompressedLength(blockSize);
    }

    /**
     * Compresses {@code length} bytes of {@code raw} (from index 0) into {@code out} (from index 0).
     *
     * @param raw    the block's raw bytes; shuffled in a scratch buffer, never modified.
     * @param length raw bytes, at most the block size.
     * @param out    room for {@link #maxCompressedLength(int)} bytes.
     * @return compressed bytes.
     */
    public int compress(final ByteBuffer raw, final int length, final ByteBuffer out) {
        if (length > blockSize) {
            throw new IllegalArgumentException("block of " + length + " bytes exceeds the block size " + blockSize);
        }
        ByteBuffer source = raw;
        if (scratch != null) {
            ByteShuffle.shuffle(raw, scratch, length, elementSize);
            source = scratch;
        }
        return compressor.compress(source, 0, length, out, 0, out.capacity());
    }

    /**
     * Decompresses a block, refusing anything but exactly {@code rawLength} bytes of output.
     *
     * @param compressed       the compressed bytes from index 0.
     * @param compressedLength their count.
     * @param out              receives the raw bytes from index 0; capacity at least {@code rawLength}.
     * @param rawLength        the raw length the block index records, at most the block size.
     * @return null when the block decoded to exactly {@code rawLength} bytes, else what went wrong.
     */
    public String decompress(final ByteBuffer compressed, final int compressedLength, final ByteBuffer out,
        final int rawLength) {
        if (rawLength > blockSize || rawLength > out.capacity() || compressedLength > compressed.capacity()) {
            return "lengths out of bounds: raw " + rawLength + " (block size " + blockSize + ", buffer "
                + out.capacity() + "), compressed " + compressedLength + " (buffer " + compressed.capacity() + ")";
        }
        final ByteBuffer target = scratch != null ? scratch : out;
        final int produced;
        try {
            // maxDestLen = rawLength: the decompressor cannot write past the block even when the index lies.
            produced = decompressor.decompress(compressed, 0, compressedLength, target, 0, rawLength);
        } catch (final LZ4Exception e) {
            return "LZ4 refuses the block: " + e.getMessage();
        }
        if (produced != rawLength) {
            return "it decompresses to " + produced + " bytes, the block index says " + rawLength;
        }
        if (scratch != null) {
            ByteShuffle.unshuffle(scratch, out, rawLength, elementSize);
        }
        return null;
    }
}
