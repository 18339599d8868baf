package io.actcache.store;

import io.actcache.CapacityExceededException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Journal#append} never writes what {@link JournalReader} would refuse to read. */
class JournalTest {
    @TempDir
    Path tmp;

    @Test
    void shouldRefuseARecordThatWouldGrowTheJournalPastWhatAReaderReads() throws IOException {
        final Path file = tmp.resolve(StoreFiles.JOURNAL);
        Journal.create(file, 0, false).close();
        final long nearlyFull = JournalDescriptor.MAX_JOURNAL_LENGTH - 40;
        try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
            sparse.setLength(nearlyFull); // a sparse file: no 2 GiB of disk needed
        }
        final JournalRecord record = new JournalRecord(1, 2, List.of(),
            List.of(new JournalRecord.MetadataEntry("model_name", "gpt2")));
        try (Journal journal = Journal.openForAppend(file, nearlyFull)) {
            final CapacityExceededException e = assertThrows(CapacityExceededException.class,
                () -> journal.append(record, false));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("epoch 1"), e.getMessage());
            assertEquals(nearlyFull, journal.size());
        }
        assertEquals(nearlyFull, Files.size(file), "nothing was written");
        try (Journal journal = Journal.openForAppend(file, JournalDescriptor.FILE_HEADER_LENGTH)) {
            journal.append(record, false);
        }
        assertEquals(1, JournalReader.scan(file, JournalDescriptor.FILE_HEADER_LENGTH, -1, -1).records().size());
    }
}
