package io.actcache.format;

import io.actcache.BadFileFormatException;
import io.actcache.InputNotFoundException;
import io.actcache.KeyNotFoundException;
import io.actcache.StoreIOException;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A safetensors file open for reading: its validated {@link SafetensorsHeader}, and each tensor as a zero-copy
 * {@link TensorView} over the file, mapped lazily in bounded chunks. Memory stays bounded whatever the file's size:
 * the heap holds the header, and at most a few chunks are mapped at a time.
 *
 * <pre>{@code
 * try (SafetensorsFile file = SafetensorsFile.open(Path.of("batch_0.safetensors"))) {
 *     TensorView resid = file.tensor("resid_out_0");
 * }
 * }</pre>
 *
 * <p>Views are valid until {@link #close()}, which unmaps everything; a view used after it throws
 * {@link io.actcache.AlreadyClosedException}. One thread at a time, views included.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final SafetensorsHeader header;
    private final MappedInputFile mapped;
    private final Map<String, TensorView> tensors;

    private SafetensorsFile(final Path path, final SafetensorsHeader header, final MappedInputFile mapped) {
        this.path = path;
        this.header = header;
        this.mapped = mapped;
        final Map<String, TensorView> views = new LinkedHashMap<>();
        for (final SafetensorsHeader.Entry entry : header.entries()) {
            final String description = path + " tensor " + SafetensorsHeader.quote(entry.name());
            views.put(entry.name(), new TensorView(entry.dtype(), entry.shape(),
                mapped.region(header.dataOffset() + entry.begin(), entry.byteSize(), description), 0));
        }
        this.tensors = Collections.unmodifiableMap(views);
    }

    /**
     * Opens a file and validates its header (see {@link SafetensorsHeader} for every check).
     *
     * @param path a safetensors file.
     * @return the open file.
     * @throws InputNotFoundException     when the file does not exist.
     * @throws BadFileFormatException     naming the file (and tensor) when it is not a valid safetensors file.
     * @throws io.actcache.UnsupportedFormatException naming the tensor for a dtype or rank actcache does not hold.
     * @throws StoreIOException           when reading fails.
     */
    public static SafetensorsFile open(final Path path) {
        return open(path, bytes -> { });
    }

    /**
     * @param path      a safetensors file.
     * @param bytesRead receives counts of tensor bytes as views first read them (for progress), each byte once.
     * @return the open file.
     * @see #open(Path)
     */
    public static SafetensorsFile open(final Path path, final LongConsumer bytesRead) {
        return open(path, bytesRead, MappedInputFile.DEFAULT_CHUNK_SIZE, MappedInputFile.DEFAULT_MAX_CHUNKS, null);
    }

    /**
     * @param path      the file.
     * @param bytesRead receives counts of bytes as views first read them (for progress), each byte once.
     * @param budget    the bound on mapped chunks this file shares with the other files its thread reads.
     * @return the open file.
     * @see #open(Path)
     */
    public static SafetensorsFile open(final Path path, final LongConsumer bytesRead, final MappingBudget budget) {
        return open(path, bytesRead, MappedInputFile.DEFAULT_CHUNK_SIZE, MappedInputFile.DEFAULT_MAX_CHUNKS, budget);
    }

    /**
     * @param path      a safetensors file.
     * @param bytesRead progress callback.
     * @param chunkSize bytes per mapped chunk (a multiple of 8).
     * @param maxChunks live chunks kept.
     * @return the open file.
     */
    static SafetensorsFile open(final Path path, final LongConsumer bytesRead, final long chunkSize,
        final int maxChunks) {
        return open(path, bytesRead, chunkSize, maxChunks, null);
    }

    private static SafetensorsFile open(final Path path, final LongConsumer bytesRead, final long chunkSize,
        final int maxChunks, final MappingBudget budget) {
        final String resource = path.toString();
        checkRegularFile(path);
        final SafetensorsHeader header;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            header = SafetensorsHeader.read(channel, resource);
        } catch (final NoSuchFileException e) {
            throw new InputNotFoundException(resource + ": no such file", e);
        } catch (final IOException e) {
            throw new StoreIOException(resource + ": cannot open: " + e, e);
        }
        return new SafetensorsFile(path, header,
            new MappedInputFile(path, resource, header.fileSize(), chunkSize, maxChunks, bytesRead, budget));
    }

    /**
     * @param path a path that must be an existing regular file.
     * @throws InputNotFoundException when it does not exist.
     * @throws BadFileFormatException when it is a directory or another kind of file.
     */
    static void checkRegularFile(final Path path) {
        if (!Files.exists(path)) {
            throw new InputNotFoundException(path + ": no such file");
        }
        if (!Files.isRegularFile(path)) {
            throw new BadFileFormatException(path + ": not a regular file");
        }
    }

    /** @return the file. */
    public Path path() {
        return path;
    }

    /** @return the validated header. */
    public SafetensorsHeader header() {
        return header;
    }

    /** @return the {@code __metadata__} map; empty when absent. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** @return the tensor names in the header's order. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /** @return every tensor by name, in the header's order; views share the file's mappings. */
    public Map<String, TensorView> tensors() {
        return tensors;
    }

    /**
     * @param name a tensor name.
     * @return its view (a fresh cursor over the shared mappings).
     * @throws KeyNotFoundException naming the file and the tensor.
     */
    public TensorView tensor(final String name) {
        final TensorView view = tensors.get(name);
        if (view == null) {
            throw new KeyNotFoundException(path + ": no tensor " + SafetensorsHeader.quote(name) + " in the file");
        }
        return view.duplicate();
    }

    /** @return chunks mapped now (bounded). */
    public int mappedChunks() {
        return mapped.mappedChunks();
    }

    /** Unmaps every chunk; views become unusable. Idempotent. */
    @Override
    public void close() {
        mapped.close();
    }

    /** @return the path and header summary. */
    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + header + "]";
    }
}
