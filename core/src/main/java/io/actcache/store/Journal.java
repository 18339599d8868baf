package io.actcache.store;

import io.actcache.CapacityExceededException;
import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

import static io.actcache.store.JournalDescriptor.*;

/**
 * The writer's handle on the journal: appends one record per commit. Layout in {@link JournalDescriptor}.
 * One thread only (the store's writer).
 *
 * <p>Design note: a record is written with one positional write of header, payload and trailer; the trailer and
 * both CRCs let a reader tell a torn (partially written) tail from a complete record, so a commit is seen whole
 * or not at all. Forcing after the write makes it the durable commit point.
 */
public final class Journal implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private long end;

    private Journal(final Path file, final FileChannel channel, final long end) {
        this.file = file;
        this.channel = channel;
        this.end = end;
    }

    /**
     * Starts a new journal generation atomically (temp file, force, rename, directory force).
     *
     * @param file      the journal path.
     * @param baseEpoch the checkpoint epoch this generation follows.
     * @param force     whether to force to the device.
     * @return the journal, open for appends.
     */
    public static Journal create(final Path file, final long baseEpoch, final boolean force) {
        return create(FileLayer.system(), file, baseEpoch, force);
    }

    /**
     * {@link #create(Path, long, boolean)} through a file layer.
     *
     * @param layer     the store's file layer.
     * @param file      the journal path.
     * @param baseEpoch the checkpoint epoch this generation follows.
     * @param force     whether to force to the device.
     * @return the journal, open for appends.
     */
    static Journal create(final FileLayer layer, final Path file, final long baseEpoch, final boolean force) {
        StoreFiles.replaceAtomically(layer, file, encodeFileHeader(baseEpoch), force);
        return openForAppend(layer, file, FILE_HEADER_LENGTH);
    }

    /**
     * Opens an existing journal for appends after its last valid record, cutting any torn tail.
     *
     * @param file     the journal path.
     * @param validEnd end of the last valid record ({@link JournalReader.Scan#validEnd()}).
     * @return the journal.
     */
    public static Journal openForAppend(final Path file, final long validEnd) {
        return openForAppend(FileLayer.system(), file, validEnd);
    }

    /**
     * {@link #openForAppend(Path, long)} through a file layer.
     *
     * @param layer    the store's file layer.
     * @param file     the journal path.
     * @param validEnd end of the last valid record.
     * @return the journal.
     */
    static Journal openForAppend(final FileLayer layer, final Path file, final long validEnd) {
        try {
            final FileChannel channel = layer.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                if (channel.size() > validEnd) {
                    channel.truncate(validEnd);
                }
                return new Journal(file, channel, validEnd);
            } catch (final IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot open journal " + file + ": " + e, e);
        }
    }

    /**
     * Appends one record.
     *
     * @param record the commit.
     * @param force  whether to force it to the device before returning (durability FSYNC).
     * @return bytes written.
     */
    public int append(final JournalRecord record, final boolean force) {
        final ByteBuffer bytes = encodeRecord(record);
        final int length = bytes.remaining();
        if (end + length > MAX_JOURNAL_LENGTH) {
            throw new CapacityExceededException("cannot append epoch " + record.epoch() + " to journal " + file
                + ": its " + length + "-byte record would grow the journal past the " + MAX_JOURNAL_LENGTH
                + " bytes a reader reads; nothing was written (a checkpoint starts a new journal)");
        }
        try {
            long position = end;
            if (CrashPoints.enabled()) {
                final int limit = bytes.limit();
                bytes.limit(length / 2);
                while (bytes.hasRemaining()) {
                    position += channel.write(bytes, position);
                }
                CrashPoints.at(CrashPoints.Phase.JOURNAL_WRITE);
                bytes.limit(limit);
            }
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
            if (force) {
                channel.force(false);
            }
        } catch (final IOException e) {
            final StoreIOException failure =
                new StoreIOException("cannot append epoch " + record.epoch() + " to journal " + file + ": " + e, e);
            try {
                // The commit failed: cut the partial record so a later open cannot mistake it for a commit.
                channel.truncate(end);
            } catch (final IOException suppressed) {
                failure.addSuppressed(suppressed);
            }
            throw failure;
        }
        end += length;
        return length;
    }

    /** @return bytes in the journal, header included. */
    public long size() {
        return end;
    }

    /** Closes the file. Idempotent. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (final IOException e) {
            throw new StoreIOException("cannot close journal " + file + ": " + e, e);
        }
    }

    static ByteBuffer encodeFileHeader(final long baseEpoch) {
        final ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(FILE_MAGIC_OFFSET, FILE_MAGIC);
        header.putInt(FILE_VERSION_OFFSET, VERSION);
        header.putLong(BASE_EPOCH_OFFSET, baseEpoch);
        header.putInt(FILE_HEADER_CRC_OFFSET, crc(header, 0, FILE_HEADER_CRC_OFFSET));
        return header;
    }

    /**
     * @throws CapacityExceededException when the payload would exceed {@link JournalDescriptor#MAX_PAYLOAD_LENGTH},
     *     which a reader would take for a damaged record.
     */
    static ByteBuffer encodeRecord(final JournalRecord record) {
        long payload = 2 * Integer.BYTES;
        for (final JournalRecord.Entry entry : record.entries()) {
            payload += 1 + Short.BYTES + entry.key().getBytes(StandardCharsets.UTF_8).length
                + (entry.isRemoval() ? 0 : entry.descriptor().encodedLength());
        }
        for (final JournalRecord.MetadataEntry change : record.metadata()) {
            payload += 1 + Short.BYTES + change.name().getBytes(StandardCharsets.UTF_8).length
                + (change.value() == null ? 0 : Integer.BYTES + change.value().getBytes(StandardCharsets.UTF_8).length);
        }
        if (payload > MAX_PAYLOAD_LENGTH) {
            throw new CapacityExceededException("the commit of epoch " + record.epoch() + " (" + record.entries().size()
                + " keys, " + record.metadata().size() + " metadata changes) needs a journal record of " + payload
                + " bytes, above the limit of " + MAX_PAYLOAD_LENGTH + "; commit it in smaller batches");
        }
        final int payloadLength = (int) payload;
        final ByteBuffer bytes = ByteBuffer.allocate(RECORD_HEADER_LENGTH + payloadLength + RECORD_TRAILER_LENGTH)
            .order(ByteOrder.LITTLE_ENDIAN);
        bytes.position(RECORD_HEADER_LENGTH);
        bytes.putInt(record.entries().size());
        for (final JournalRecord.Entry entry : record.entries()) {
            final byte[] key = entry.key().getBytes(StandardCharsets.UTF_8);
            bytes.put(entry.isRemoval() ? ENTRY_REMOVE : ENTRY_SET).putShort((short) key.length).put(key);
            if (!entry.isRemoval()) {
                entry.descriptor().encode(bytes);
            }
        }
        bytes.putInt(record.metadata().size());
        for (final JournalRecord.MetadataEntry change : record.metadata()) {
            final byte[] name = change.name().getBytes(StandardCharsets.UTF_8);
            bytes.put(change.value() == null ? METADATA_REMOVE : METADATA_SET).putShort((short) name.length).put(name);
            if (change.value() != null) {
                final byte[] value = change.value().getBytes(StandardCharsets.UTF_8);
                bytes.putInt(value.length).put(value);
            }
        }
        bytes.putInt(RECORD_TRAILER);
        bytes.putInt(RECORD_MAGIC_OFFSET, RECORD_MAGIC);
        bytes.putInt(PAYLOAD_LENGTH_OFFSET, payloadLength);
        bytes.putLong(EPOCH_OFFSET, record.epoch());
        bytes.putLong(NEXT_COLUMN_ID_OFFSET, record.nextColumnId());
        bytes.putInt(PAYLOAD_CRC_OFFSET, crc(bytes, RECORD_HEADER_LENGTH, payloadLength));
        bytes.putInt(RECORD_HEADER_CRC_OFFSET, crc(bytes, 0, RECORD_HEADER_CRC_OFFSET));
        bytes.clear();
        return bytes;
    }

    static int crc(final ByteBuffer buffer, final int offset, final int length) {
        final CRC32C crc = new CRC32C();
        crc.update(buffer.duplicate().position(offset).limit(offset + length));
        return (int) crc.getValue();
    }

    static CorruptFileException corrupt(final Path file, final long offset, final String what) {
        return new CorruptFileException("journal " + file + " at offset " + offset + ": " + what);
    }
}
