package io.actcache.format;

import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes a safetensors file from {@link TensorView}s, streamed: the header is computed first from the dtypes and
 * shapes alone, then each tensor's bytes are copied from its view with positional channel writes. Nothing but the
 * header is held in memory, so files far larger than the heap are written in bounded memory.
 *
 * <p>Tensors are laid out as the reference implementation lays them out: by dtype width, widest first, so that
 * with the header padded to a multiple of 8 every tensor starts at a multiple of its element width (readers may
 * then view the bytes in place); tensors of one width keep the caller's order. The header lists them in that
 * layout order, {@code __metadata__} first.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /**
     * A tensor to write under a name.
     *
     * @param name the tensor's name in the file.
     * @param view its bytes.
     */
    public record NamedView(String name, TensorView view) {
    }

    /**
     * @param tensors tensors in the caller's order.
     * @return the header entries in layout order (widest dtype first, stable), offsets tiling the byte buffer.
     */
    public static List<SafetensorsHeader.Entry> layout(final List<NamedView> tensors) {
        final List<NamedView> ordered = new ArrayList<>(tensors);
        ordered.sort(Comparator.comparingInt((NamedView t) -> t.view().dtype().byteWidth()).reversed());
        final List<SafetensorsHeader.Entry> entries = new ArrayList<>(ordered.size());
        long offset = 0;
        for (final NamedView tensor : ordered) {
            final TensorView view = tensor.view();
            entries.add(new SafetensorsHeader.Entry(tensor.name(), view.dtype(), view.shape(), offset,
                offset + view.byteSize()));
            offset += view.byteSize();
        }
        return entries;
    }

    /**
     * Writes a whole file from offset 0 and cuts the channel to its size.
     *
     * @param channel   a file open for writing.
     * @param metadata  the {@code __metadata__} map (omitted when empty).
     * @param tensors   the tensors; names must be distinct and not {@value SafetensorsHeader#METADATA_KEY}.
     * @param bytesDone receives counts of tensor bytes as they are written.
     * @return the file's size.
     * @throws IOException              when a write fails.
     * @throws IllegalArgumentException when a name repeats or is reserved.
     * @throws io.actcache.CapacityExceededException when the header would exceed the format's 100 MB limit.
     */
    public static long write(final FileChannel channel, final Map<String, String> metadata,
        final List<NamedView> tensors, final LongConsumer bytesDone) throws IOException {
        final List<SafetensorsHeader.Entry> entries = layout(tensors);
        final ByteBuffer header = SafetensorsHeader.encode(metadata, entries);
        long position = ViewWriter.writeFully(channel, header, 0);
        final Map<String, TensorView> views = new java.util.HashMap<>();
        tensors.forEach(tensor -> views.put(tensor.name(), tensor.view()));
        for (final SafetensorsHeader.Entry entry : entries) {
            position += ViewWriter.write(views.get(entry.name()).duplicate(), channel, position, bytesDone);
        }
        channel.truncate(position);
        return position;
    }
}
