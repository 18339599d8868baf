package io.actcache.store;

import io.actcache.CorruptFileException;
import io.actcache.testing.FuzzChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.actcache.store.JournalDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link JournalReader} on hand-made journals: records whose CRCs match but whose payload lies (inputs the
 * {@link JournalReaderFuzzTest} found or that review of it turned up), and length fields the file does not back.
 */
class JournalReaderTest {
    /** Far below what any lying length field asks for; a scan of a small journal needs a few KiB. */
    private static final long SMALL_ALLOCATION = 64 << 10;

    @TempDir
    Path tmp;

    @Test
    void shouldReadARecordItFramedItself() throws IOException {
        final Path journal = write(record(1, removal(utf8("resid_out_0"))));
        final JournalReader.Scan scan = JournalReader.scan(journal);
        assertEquals(List.of(new JournalRecord.Entry("resid_out_0", null)), scan.records().get(0).entries());
        assertEquals(Files.size(journal), scan.validEnd());
    }

    @Test
    void shouldReportAKeyThatIsNotUtf8AsCorruptionNamingTheRecord() throws IOException {
        // Found by fuzzing: the key decoded leniently to U+FFFD and the record no longer matched its own bytes.
        final byte[] key = {'r', 'e', 's', (byte) 0xFF, (byte) 0xF7};
        final Path journal = write(record(1, removal(key)));
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> JournalReader.scan(journal));
        assertTrue(e.getMessage().contains(journal.toString()) && e.getMessage().contains("offset 32")
            && e.getMessage().contains("epoch 1") && e.getMessage().contains("key of 5 bytes is not valid UTF-8"),
            e.getMessage());
    }

    @Test
    void shouldReportAKeyTheStoreWouldRefuseAsCorruption() throws IOException {
        final Path journal = write(record(1, removal(utf8("bad\nkey"))));
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> JournalReader.scan(journal));
        assertTrue(e.getMessage().contains("control character U+000A"), e.getMessage());
    }

    @Test
    void shouldRejectAnEntryCountThePayloadCannotHoldWithoutSizingAnythingByIt() throws IOException {
        for (final int count : new int[] {Integer.MAX_VALUE, 65_536, -1}) {
            final ByteBuffer payload = ByteBuffer.allocate(2 * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(count).putInt(0);
            final Path journal = write(record(1, payload.array()));
            final CorruptFileException e = assertCorruptWithinSmallAllocation(journal);
            assertTrue(e.getMessage().contains("entry count " + count + " does not fit the 4 bytes left"),
                e.getMessage());
        }
    }

    @Test
    void shouldRejectKeyAndValueLengthsThePayloadCannotHoldWithoutAllocatingThem() throws IOException {
        final ByteBuffer key = ByteBuffer.allocate(Integer.BYTES + 1 + Short.BYTES + 4 + Integer.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN).putInt(1).put(ENTRY_REMOVE).putShort((short) 0xFFFF).put(utf8("abcd"))
            .putInt(0);
        final CorruptFileException keyError = assertCorruptWithinSmallAllocation(write(record(1, key.array())));
        assertTrue(keyError.getMessage().contains("key length 65535 exceeds the 8 bytes left"), keyError.getMessage());

        final ByteBuffer value = ByteBuffer.allocate(2 * Integer.BYTES + 1 + Short.BYTES + 1 + Integer.BYTES + 4)
            .order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(1).put(METADATA_SET).putShort((short) 1).put((byte) 'n')
            .putInt(Integer.MAX_VALUE).put(utf8("gpt2"));
        final CorruptFileException valueError = assertCorruptWithinSmallAllocation(write(record(1, value.array())));
        assertTrue(valueError.getMessage().contains("metadata value length 2147483647 exceeds the 4 bytes left"),
            valueError.getMessage());
    }

    @Test
    void shouldTreatAPayloadLengthTheFileDoesNotBackAsATornTailWithoutAllocatingIt() throws IOException {
        for (final int claimed : new int[] {200 << 20, MAX_PAYLOAD_LENGTH, Integer.MAX_VALUE}) {
            final byte[] bytes = record(1, removal(utf8("resid_out_0")));
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(FILE_HEADER_LENGTH + PAYLOAD_LENGTH_OFFSET, claimed);
            fixHeaderCrc(bytes, FILE_HEADER_LENGTH);
            final Path journal = write(bytes);
            JournalReader.scan(journal);
            final long before = FuzzChecks.allocatedBytes();
            final JournalReader.Scan scan = JournalReader.scan(journal);
            final long allocated = FuzzChecks.allocatedBytes() - before;
            assertTrue(scan.records().isEmpty(), "a record claiming " + claimed + " payload bytes is not whole");
            assertEquals(FILE_HEADER_LENGTH, scan.validEnd());
            assertEquals(bytes.length - FILE_HEADER_LENGTH, scan.tornBytes());
            assertTrue(allocated < SMALL_ALLOCATION, "scan of a " + bytes.length + "-byte journal claiming "
                + claimed + " payload bytes allocated " + allocated + " bytes");
        }
    }

    private static CorruptFileException assertCorruptWithinSmallAllocation(final Path journal) {
        assertThrows(CorruptFileException.class, () -> JournalReader.scan(journal)); // warm: classes, messages
        final long before = FuzzChecks.allocatedBytes();
        final CorruptFileException e = assertThrows(CorruptFileException.class, () -> JournalReader.scan(journal));
        final long allocated = FuzzChecks.allocatedBytes() - before;
        assertTrue(allocated < SMALL_ALLOCATION, "rejecting " + journal + " allocated " + allocated + " bytes");
        return e;
    }

    private Path write(final byte[] journal) throws IOException {
        final Path file = Files.createTempFile(tmp, "journal", "");
        Files.write(file, journal);
        return file;
    }

    private static byte[] utf8(final String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** @return a payload with one entry removing {@code key}, and no metadata change. */
    private static byte[] removal(final byte[] key) {
        return ByteBuffer.allocate(2 * Integer.BYTES + 1 + Short.BYTES + key.length).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(1).put(ENTRY_REMOVE).putShort((short) key.length).put(key).putInt(0).array();
    }

    /** @return a journal of base epoch 0 holding one record of this payload, with correct CRCs and trailer. */
    private static byte[] record(final long epoch, final byte[] payload) {
        final ByteBuffer bytes = ByteBuffer.allocate(FILE_HEADER_LENGTH + RECORD_HEADER_LENGTH + payload.length
            + RECORD_TRAILER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        bytes.put(Journal.encodeFileHeader(0));
        final int offset = FILE_HEADER_LENGTH;
        bytes.putInt(offset + RECORD_MAGIC_OFFSET, RECORD_MAGIC).putInt(offset + PAYLOAD_LENGTH_OFFSET, payload.length)
            .putLong(offset + EPOCH_OFFSET, epoch).putLong(offset + NEXT_COLUMN_ID_OFFSET, 1)
            .put(offset + RECORD_HEADER_LENGTH, payload)
            .putInt(offset + RECORD_HEADER_LENGTH + payload.length, RECORD_TRAILER)
            .putInt(offset + PAYLOAD_CRC_OFFSET, Journal.crc(bytes, offset + RECORD_HEADER_LENGTH, payload.length));
        fixHeaderCrc(bytes.array(), offset);
        return bytes.array();
    }

    private static void fixHeaderCrc(final byte[] journal, final int offset) {
        final ByteBuffer bytes = ByteBuffer.wrap(journal).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(offset + RECORD_HEADER_CRC_OFFSET, Journal.crc(bytes, offset, RECORD_HEADER_CRC_OFFSET));
    }
}
