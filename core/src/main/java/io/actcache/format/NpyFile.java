package io.actcache.format;

import io.actcache.BadFileFormatException;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.InputNotFoundException;
import io.actcache.StoreIOException;
import io.actcache.UnsupportedFormatException;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.LongConsumer;

/**
 * An NPY file (numpy's {@code .npy}, versions 1.0, 2.0 and 3.0) open for reading: its {@link NpyHeader} and its
 * array as a zero-copy {@link TensorView}, mapped lazily in bounded chunks; and {@link #write} for the other way.
 *
 * <p>Only C-order little-endian arrays of actcache's dtypes are read: a Fortran-order or big-endian array is
 * refused by {@link NpyHeader} with an {@link UnsupportedFormatException} naming the file and the numpy call that
 * converts it. The file must hold exactly the header plus the data its shape calls for: fewer bytes is a truncated
 * file, more is refused too (numpy never writes trailing bytes). A malformed header is a
 * {@link BadFileFormatException}, since this reads a user's input, not a store's own file. One thread at a time.
 */
public final class NpyFile implements AutoCloseable {
    private final Path path;
    private final NpyHeader header;
    private final MappedInputFile mapped;
    private final TensorView tensor;

    private NpyFile(final Path path, final NpyHeader header, final MappedInputFile mapped) {
        this.path = path;
        this.header = header;
        this.mapped = mapped;
        this.tensor = new TensorView(header.dtype(), header.shape(),
            mapped.region(header.dataOffset(), header.dataByteSize(), path.toString()), 0);
    }

    /**
     * @param path an NPY file.
     * @return the open file.
     * @throws InputNotFoundException     when it does not exist.
     * @throws BadFileFormatException     naming the file when its header is malformed or its size disagrees with it.
     * @throws UnsupportedFormatException naming the file for Fortran order, big-endian or another dtype, or a
     *                                    version above 3.0.
     */
    public static NpyFile open(final Path path) {
        return open(path, bytes -> { });
    }

    /**
     * @param path      an NPY file.
     * @param bytesRead receives counts of data bytes as the view first reads them, each byte once.
     * @return the open file.
     * @see #open(Path)
     */
    public static NpyFile open(final Path path, final LongConsumer bytesRead) {
        return open(path, bytesRead, MappedInputFile.DEFAULT_CHUNK_SIZE, MappedInputFile.DEFAULT_MAX_CHUNKS, null);
    }

    /**
     * @param path      the file.
     * @param bytesRead receives counts of bytes as views first read them (for progress), each byte once.
     * @param budget    the bound on mapped chunks this file shares with the other files its thread reads.
     * @return the open file.
     * @see #open(Path)
     */
    public static NpyFile open(final Path path, final LongConsumer bytesRead, final MappingBudget budget) {
        return open(path, bytesRead, MappedInputFile.DEFAULT_CHUNK_SIZE, MappedInputFile.DEFAULT_MAX_CHUNKS, budget);
    }

    static NpyFile open(final Path path, final LongConsumer bytesRead, final long chunkSize, final int maxChunks) {
        return open(path, bytesRead, chunkSize, maxChunks, null);
    }

    private static NpyFile open(final Path path, final LongConsumer bytesRead, final long chunkSize,
        final int maxChunks, final MappingBudget budget) {
        final String resource = path.toString();
        SafetensorsFile.checkRegularFile(path);
        final NpyHeader header;
        final long size;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            size = channel.size();
            header = NpyHeader.read(channel, resource);
        } catch (final NoSuchFileException e) {
            throw new InputNotFoundException(resource + ": no such file", e);
        } catch (final IOException e) {
            throw new StoreIOException(resource + ": cannot open: " + e, e);
        } catch (final FormatTooNewException e) {
            throw new UnsupportedFormatException(e.getMessage(), e);
        } catch (final CorruptFileException e) {
            throw new BadFileFormatException(e.getMessage(), e);
        }
        final long expected = header.dataOffset() + header.dataByteSize();
        if (size < expected) {
            throw new BadFileFormatException(resource + ": truncated: the header declares " + header.dtype() + " "
                + header.shape() + ", " + header.dataByteSize() + " data bytes from offset " + header.dataOffset()
                + ", ending at " + expected + ", but the file holds " + size + " bytes");
        }
        if (size > expected) {
            throw new BadFileFormatException(resource + ": the file holds " + (size - expected) + " bytes after the "
                + header.dataByteSize() + " data bytes its header declares (" + header.dtype() + " " + header.shape()
                + "); an NPY file ends with its data");
        }
        return new NpyFile(path, header, new MappedInputFile(path, resource, size, chunkSize, maxChunks, bytesRead, budget));
    }

    /**
     * Writes {@code view} as an NPY 1.0 file at {@code position}: the smallest header {@link NpyHeader#encode}
     * makes (aligned to 64 bytes, as numpy requires), then the data with positional channel writes (never mapped writes: a full disk is an
     * {@link IOException}). BF16 is written as {@code <u2}, as {@link NpyHeader} describes.
     *
     * @param view      the array.
     * @param channel   destination.
     * @param position  file offset of the header.
     * @param bytesDone receives counts of data bytes as they are written.
     * @return bytes written, header included.
     * @throws IOException when a write fails.
     */
    public static long write(final TensorView view, final FileChannel channel, final long position,
        final LongConsumer bytesDone) throws IOException {
        final ByteBuffer header = NpyHeader.encode(view.dtype(), view.shape());
        final int headerSize = header.remaining();
        ViewWriter.writeFully(channel, header, position);
        return headerSize + ViewWriter.write(view, channel, position + headerSize, bytesDone);
    }

    /** @return the file. */
    public Path path() {
        return path;
    }

    /** @return the parsed header. */
    public NpyHeader header() {
        return header;
    }

    /** @return the array (a fresh cursor over the shared mappings). */
    public TensorView tensor() {
        return tensor.duplicate();
    }

    /** Unmaps every chunk; views become unusable. Idempotent. */
    @Override
    public void close() {
        mapped.close();
    }

    /** @return the path and header. */
    @Override
    public String toString() {
        return "NpyFile[" + path + ", " + header + "]";
    }
}
