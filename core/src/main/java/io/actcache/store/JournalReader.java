package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.StoreIOException;
import org.agrona.SemanticVersion;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static io.actcache.store.JournalDescriptor.*;

/**
 * Reads and validates a journal (layout in {@link JournalDescriptor}). Used by the writer on open and by
 * readers on open and {@link ActivationStore#refresh()}; never writes.
 *
 * <p>Validation: every record's magic, both CRCs, trailer and epoch sequence (base + 1, + 2, ...). An invalid
 * record with no valid record after it is a torn tail and is dropped; an invalid record followed by a valid one
 * is corruption and is reported, since dropping it would silently lose later commits.
 */
public final class JournalReader {
    /** Fewest payload bytes an entry or a metadata change takes: a type byte and a u16 length. */
    private static final int MIN_ITEM_LENGTH = 1 + Short.BYTES;

    private JournalReader() {
    }

    /**
     * The result of a scan.
     *
     * @param baseEpoch the checkpoint epoch this generation follows.
     * @param records   valid records from {@code fromOffset}, in order.
     * @param validEnd  offset one past the last valid record.
     * @param tornBytes bytes after {@code validEnd} (a torn tail to drop).
     * @param generationChanged true when the file is a newer generation than the caller expected (a checkpoint
     *                          replaced it); no records are read then.
     */
    public record Scan(long baseEpoch, List<JournalRecord> records, long validEnd, long tornBytes,
        boolean generationChanged) {
        /**
         * @param fallback epoch to return when there is no record.
         * @return the epoch of the last valid record, or {@code fallback}.
         */
        public long lastEpoch(final long fallback) {
            return records.isEmpty() ? fallback : records.get(records.size() - 1).epoch();
        }
    }

    /**
     * Reads the whole journal.
     *
     * @param file the journal.
     * @return the scan, or null when the file does not exist.
     */
    public static Scan scan(final Path file) {
        return scan(file, FILE_HEADER_LENGTH, -1, -1);
    }

    /**
     * Reads records from an offset, continuing an earlier scan.
     *
     * @param file          the journal.
     * @param fromOffset    where to start ({@link Scan#validEnd()} of an earlier scan, or the header length).
     * @param previousEpoch epoch of the record before {@code fromOffset}, or -1 to take it from the header.
     * @param expectedBase  base epoch of the generation {@code fromOffset} belongs to, or -1 for any.
     * @return the scan, or null when the file does not exist.
     */
    public static Scan scan(final Path file, final long fromOffset, final long previousEpoch,
        final long expectedBase) {
        final ByteBuffer bytes;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            final long size = channel.size();
            if (size > MAX_JOURNAL_LENGTH) {
                throw Journal.corrupt(file, 0, "file of " + size + " bytes is too large for a journal");
            }
            bytes = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
            while (bytes.hasRemaining() && channel.read(bytes, bytes.position()) >= 0) {
                // read fully
            }
            bytes.flip();
        } catch (final NoSuchFileException e) {
            return null;
        } catch (final IOException e) {
            throw new StoreIOException("cannot read journal " + file + ": " + e, e);
        }
        final long baseEpoch = readFileHeader(file, bytes);
        if (expectedBase >= 0 && baseEpoch != expectedBase) {
            return new Scan(baseEpoch, List.of(), FILE_HEADER_LENGTH, 0, true);
        }
        long expectedEpoch = (previousEpoch < 0 ? baseEpoch : previousEpoch) + 1;
        final List<JournalRecord> records = new ArrayList<>();
        int offset = (int) fromOffset;
        while (offset < bytes.limit()) {
            final JournalRecord record = tryDecode(file, bytes, offset, expectedEpoch);
            if (record == null) {
                checkNoValidRecordAfter(file, bytes, offset, expectedEpoch);
                break;
            }
            records.add(record);
            offset += recordLength(bytes, offset);
            expectedEpoch++;
        }
        return new Scan(baseEpoch, records, offset, bytes.limit() - offset, false);
    }

    private static long readFileHeader(final Path file, final ByteBuffer bytes) {
        if (bytes.limit() < FILE_HEADER_LENGTH) {
            throw Journal.corrupt(file, 0, "file header truncated: " + bytes.limit() + " of " + FILE_HEADER_LENGTH
                + " bytes");
        }
        final int magic = bytes.getInt(FILE_MAGIC_OFFSET);
        if (magic != FILE_MAGIC) {
            throw Journal.corrupt(file, FILE_MAGIC_OFFSET, String.format("expected magic 0x%08x, found 0x%08x",
                FILE_MAGIC, magic));
        }
        final int crc = Journal.crc(bytes, 0, FILE_HEADER_CRC_OFFSET);
        if (crc != bytes.getInt(FILE_HEADER_CRC_OFFSET)) {
            throw Journal.corrupt(file, FILE_HEADER_CRC_OFFSET, String.format(
                "file header CRC32C expected 0x%08x, found 0x%08x", crc, bytes.getInt(FILE_HEADER_CRC_OFFSET)));
        }
        final int version = bytes.getInt(FILE_VERSION_OFFSET);
        if (SemanticVersion.major(version) != SemanticVersion.major(VERSION)) {
            final String message = "journal " + file + " has version " + SemanticVersion.toString(version)
                + ", this build reads " + SemanticVersion.toString(VERSION);
            throw SemanticVersion.major(version) > SemanticVersion.major(VERSION)
                ? new io.actcache.FormatTooNewException(message) : new io.actcache.FormatTooOldException(message);
        }
        return bytes.getLong(BASE_EPOCH_OFFSET);
    }

    private static int recordLength(final ByteBuffer bytes, final int offset) {
        return RECORD_HEADER_LENGTH + bytes.getInt(offset + PAYLOAD_LENGTH_OFFSET) + RECORD_TRAILER_LENGTH;
    }

    /** @return the record, or null when the bytes at {@code offset} are not a whole valid record. */
    private static JournalRecord tryDecode(final Path file, final ByteBuffer bytes, final int offset,
        final long expectedEpoch) {
        if (!isValidRecord(bytes, offset)) {
            return null;
        }
        final long epoch = bytes.getLong(offset + EPOCH_OFFSET);
        if (epoch != expectedEpoch) {
            throw Journal.corrupt(file, offset, "record epoch " + epoch + " where " + expectedEpoch + " was expected");
        }
        final long nextColumnId = bytes.getLong(offset + NEXT_COLUMN_ID_OFFSET);
        final ByteBuffer payload = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN)
            .position(offset + RECORD_HEADER_LENGTH).limit(offset + RECORD_HEADER_LENGTH
                + bytes.getInt(offset + PAYLOAD_LENGTH_OFFSET));
        try {
            final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            final int count = count(payload, "entry");
            final List<JournalRecord.Entry> entries = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                final byte type = payload.get();
                final String key = Keys.validate(text(payload, payload.getShort() & 0xFFFF, utf8, "key"));
                if (type == ENTRY_SET) {
                    entries.add(new JournalRecord.Entry(key, ColumnDescriptor.decode(payload)));
                } else if (type == ENTRY_REMOVE) {
                    entries.add(new JournalRecord.Entry(key, null));
                } else {
                    throw new IllegalArgumentException("unknown entry type " + type);
                }
            }
            final int changes = count(payload, "metadata change");
            final List<JournalRecord.MetadataEntry> metadata = new ArrayList<>(changes);
            for (int i = 0; i < changes; i++) {
                final byte type = payload.get();
                final String name = Keys.validate(text(payload, payload.getShort() & 0xFFFF, utf8, "metadata name"));
                String value = null;
                if (type == METADATA_SET) {
                    value = text(payload, payload.getInt(), utf8, "metadata value");
                } else if (type != METADATA_REMOVE) {
                    throw new IllegalArgumentException("unknown metadata change type " + type);
                }
                metadata.add(new JournalRecord.MetadataEntry(name, value));
            }
            if (payload.hasRemaining()) {
                throw new IllegalArgumentException(payload.remaining() + " bytes left after the entries");
            }
            return new JournalRecord(epoch, nextColumnId, entries, metadata);
        } catch (final RuntimeException e) {
            // The CRCs matched, so this was written so: a bug or a version mismatch, never a torn write.
            final CorruptFileException corrupt =
                Journal.corrupt(file, offset, "record of epoch " + epoch + " cannot be decoded: " + e.getMessage());
            corrupt.initCause(e);
            throw corrupt;
        }
    }

    /**
     * Reads an entry or change count, checked against the bytes left before anything is sized by it: each one
     * takes at least {@link #MIN_ITEM_LENGTH} bytes.
     */
    private static int count(final ByteBuffer payload, final String what) {
        final int count = payload.getInt();
        if (count < 0 || count > payload.remaining() / MIN_ITEM_LENGTH) {
            throw new IllegalArgumentException(what + " count " + count + " does not fit the " + payload.remaining()
                + " bytes left in the payload");
        }
        return count;
    }

    /** Reads {@code length} bytes of strict UTF-8, checking the length against the bytes left first. */
    private static String text(final ByteBuffer payload, final int length, final CharsetDecoder utf8,
        final String what) {
        if (length < 0 || length > payload.remaining()) {
            throw new IllegalArgumentException(what + " length " + length + " exceeds the " + payload.remaining()
                + " bytes left in the payload");
        }
        final ByteBuffer bytes = payload.slice().limit(length);
        payload.position(payload.position() + length);
        try {
            return utf8.decode(bytes).toString();
        } catch (final CharacterCodingException e) {
            throw new IllegalArgumentException(what + " of " + length + " bytes is not valid UTF-8");
        }
    }

    private static boolean isValidRecord(final ByteBuffer bytes, final int offset) {
        if (bytes.limit() - offset < RECORD_HEADER_LENGTH + RECORD_TRAILER_LENGTH) {
            return false;
        }
        if (bytes.getInt(offset + RECORD_MAGIC_OFFSET) != RECORD_MAGIC
            || bytes.getInt(offset + RECORD_HEADER_CRC_OFFSET) != Journal.crc(bytes, offset, RECORD_HEADER_CRC_OFFSET)) {
            return false;
        }
        final int payloadLength = bytes.getInt(offset + PAYLOAD_LENGTH_OFFSET);
        if (payloadLength < Integer.BYTES || payloadLength > MAX_PAYLOAD_LENGTH
            || (long) offset + RECORD_HEADER_LENGTH + payloadLength + RECORD_TRAILER_LENGTH > bytes.limit()) {
            return false;
        }
        return bytes.getInt(offset + RECORD_HEADER_LENGTH + payloadLength) == RECORD_TRAILER
            && bytes.getInt(offset + PAYLOAD_CRC_OFFSET)
            == Journal.crc(bytes, offset + RECORD_HEADER_LENGTH, payloadLength);
    }

    private static void checkNoValidRecordAfter(final Path file, final ByteBuffer bytes, final int badOffset,
        final long expectedEpoch) {
        for (int offset = badOffset + 1; offset <= bytes.limit() - RECORD_HEADER_LENGTH; offset++) {
            if (bytes.getInt(offset) == RECORD_MAGIC && isValidRecord(bytes, offset)) {
                throw new CorruptFileException("journal " + file + " at offset " + badOffset + ": the record of epoch "
                    + expectedEpoch + " is damaged but a valid record of epoch "
                    + bytes.getLong(offset + EPOCH_OFFSET) + " follows at offset " + offset
                    + "; refusing to drop committed data");
            }
        }
    }
}
