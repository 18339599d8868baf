package io.actcache.store;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.actcache.CorruptFileException;
import io.actcache.FormatTooNewException;
import io.actcache.FormatTooOldException;
import io.actcache.StoreIOException;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.testing.FuzzChecks;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.actcache.store.JournalDescriptor.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link JournalReader#scan(Path)} on real files. Without {@code JAZZER_FUZZ} it runs once per seed (real
 * journals written by a store) and on the empty input; the pom's fuzzing execution mutates them for a bounded time.
 *
 * <p>The first input byte picks a mode; the rest is the journal file. Mode 0 writes it as is, which exercises the
 * magic, CRC, trailer and torn-tail checks. Mode 1 first recomputes the file header CRC and the CRCs of every
 * record whose frame fits, so mutations of a payload reach the record decoder instead of stopping at a CRC.
 *
 * <p>Allowed outcomes: a scan, or {@link CorruptFileException}, {@link FormatTooNewException},
 * {@link FormatTooOldException}, {@link StoreIOException}. A scan must account for every byte of the file, hold
 * consecutive epochs, re-encode to exactly the bytes it decoded, and be found again by a continuing scan.
 */
class JournalReaderFuzzTest {
    private static final byte MODE_AS_IS = 0;
    private static final byte MODE_REPAIR_CRCS = 1;

    @TempDir
    static Path tmp;
    private static long executions;

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void scanNeverFailsUndocumented(final byte[] input) {
        executions++;
        final byte[] file = input.length == 0 ? input : Arrays.copyOfRange(input, 1, input.length);
        if (input.length > 0 && (input[0] & 1) == MODE_REPAIR_CRCS) {
            repairCrcs(file);
        }
        final Path journal = tmp.resolve("journal");
        FuzzChecks.overwrite(journal, file);
        final JournalReader.Scan scan = FuzzChecks.withinAllocation(file.length, "JournalReader.scan",
            () -> scanOrNull(journal));
        if (scan != null) {
            checkScan(journal, file, scan);
        }
    }

    @AfterAll
    static void ranEnough() {
        FuzzChecks.checkMinimumExecutions(executions, "JournalReaderFuzzTest");
    }

    /** @return the scan, or null when it threw a documented exception. */
    private static JournalReader.Scan scanOrNull(final Path journal) {
        try {
            return JournalReader.scan(journal);
        } catch (final RuntimeException e) {
            FuzzChecks.checkDocumented(e, CorruptFileException.class, FormatTooNewException.class,
                FormatTooOldException.class, StoreIOException.class);
            return null;
        }
    }

    private static void checkScan(final Path journal, final byte[] file, final JournalReader.Scan scan) {
        assertEquals(file.length, scan.validEnd() + scan.tornBytes(), "valid end plus torn bytes must be the file");
        long offset = FILE_HEADER_LENGTH;
        long epoch = scan.baseEpoch();
        for (final JournalRecord record : scan.records()) {
            assertEquals(++epoch, record.epoch(), "epochs follow the base epoch one by one");
            final byte[] encoded = Journal.encodeRecord(record).array();
            assertArrayEquals(encoded, Arrays.copyOfRange(file, (int) offset, (int) offset + encoded.length),
                "record at offset " + offset + " must re-encode to the bytes it was read from");
            offset += encoded.length;
        }
        assertEquals(scan.validEnd(), offset, "records end at the valid end");
        final JournalReader.Scan again = JournalReader.scan(journal, scan.validEnd(), epoch, scan.baseEpoch());
        assertTrue(again.records().isEmpty(), "a scan continuing at the valid end finds no record");
        assertEquals(scan.validEnd(), again.validEnd());
    }

    /** Recomputes the header CRC and the CRCs of each record whose frame fits, front to back. */
    private static void repairCrcs(final byte[] file) {
        final ByteBuffer bytes = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (file.length < FILE_HEADER_LENGTH) {
            return;
        }
        bytes.putInt(FILE_HEADER_CRC_OFFSET, Journal.crc(bytes, 0, FILE_HEADER_CRC_OFFSET));
        int offset = FILE_HEADER_LENGTH;
        while (file.length - offset >= RECORD_HEADER_LENGTH + RECORD_TRAILER_LENGTH
            && bytes.getInt(offset + RECORD_MAGIC_OFFSET) == RECORD_MAGIC) {
            final int payloadLength = bytes.getInt(offset + PAYLOAD_LENGTH_OFFSET);
            final int room = file.length - offset - RECORD_HEADER_LENGTH - RECORD_TRAILER_LENGTH;
            if (payloadLength < 0 || payloadLength > room) {
                return;
            }
            bytes.putInt(offset + PAYLOAD_CRC_OFFSET, Journal.crc(bytes, offset + RECORD_HEADER_LENGTH, payloadLength));
            bytes.putInt(offset + RECORD_HEADER_CRC_OFFSET, Journal.crc(bytes, offset, RECORD_HEADER_CRC_OFFSET));
            offset += RECORD_HEADER_LENGTH + payloadLength + RECORD_TRAILER_LENGTH;
        }
    }

    /** @return real journals, each in both modes: a fresh generation and one with every kind of entry. */
    static List<Arguments> seeds() throws IOException {
        final Path dir = Files.createTempDirectory(tmp, "seed-store");
        final List<byte[]> journals = new ArrayList<>();
        final StoreOptions options = StoreOptions.builder().durability(Durability.PROCESS).build();
        try (ActivationStore store = ActivationStore.create(dir, options)) {
            store.append("resid_out_0", TestData.random(DType.F32, Shape.of(2, 3, 4), 1));
            store.append("resid_out_0", TestData.random(DType.F32, Shape.of(1, 3, 4), 2));
            store.putMetadata(Map.of("model_name", "gpt2", "n_layers", "12"));
            try (ActivationStore.Batch batch = store.batch()) {
                batch.put("input_ids", TestData.random(DType.I64, Shape.of(2, 5), 3));
                batch.appendToList("attn_pattern", TestData.random(DType.BF16, Shape.of(2, 2), 4).view());
                batch.appendToList("attn_pattern", TestData.random(DType.BF16, Shape.of(3, 3), 5).view());
                batch.putMetadata("note", "a value with ünïcode");
                batch.commit();
            }
            store.remove("input_ids");
            try (ActivationStore.Batch batch = store.batch()) {
                batch.removeMetadata("note").putMetadata("n_layers", "13").commit();
            }
            journals.add(Files.readAllBytes(dir.resolve(StoreFiles.JOURNAL)));
        }
        // The clean close checkpointed: the journal is now a fresh generation, a header and no record.
        journals.add(Files.readAllBytes(dir.resolve(StoreFiles.JOURNAL)));
        final List<Arguments> seeds = new ArrayList<>();
        for (final byte[] journal : journals) {
            for (final byte mode : new byte[] {MODE_AS_IS, MODE_REPAIR_CRCS}) {
                final byte[] input = new byte[journal.length + 1];
                input[0] = mode;
                System.arraycopy(journal, 0, input, 1, journal.length);
                seeds.add(Arguments.of((Object) input));
            }
        }
        return seeds;
    }
}
