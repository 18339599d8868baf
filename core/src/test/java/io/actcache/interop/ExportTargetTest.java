package io.actcache.interop;

import io.actcache.StoreIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ExportTarget} on real directories: the target holds its old content or the whole new export. */
class ExportTargetTest {
    @TempDir
    Path tmp;

    @Test
    void shouldReplaceAnOldExportAndLeaveNothingBeside() throws IOException {
        final Path target = oldExport();
        try (ExportTarget export = ExportTarget.prepare(target, true, null)) {
            Files.writeString(export.directory().resolve("b.npy"), "new");
            export.commit();
        }
        assertEquals("new", Files.readString(target.resolve("b.npy")));
        assertTrue(Files.notExists(target.resolve("a.npy")));
        assertEquals(1, entries(), "no staging or moved-aside directory is left");
    }

    @Test
    void shouldMoveTheOldExportBackWhenTheNewOneCannotBeMovedIn() throws IOException {
        final Path target = oldExport();
        final ExportTarget export = ExportTarget.prepare(target, true, null);
        Files.delete(export.directory()); // the staged export vanished: its rename into place fails
        final StoreIOException e = assertThrows(StoreIOException.class, export::commit);
        assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
        export.close();
        assertEquals("old", Files.readString(target.resolve("a.npy")), "the old export is back in place");
        assertEquals(1, entries(), "no moved-aside directory is left");
    }

    private Path oldExport() throws IOException {
        final Path target = Files.createDirectory(tmp.resolve("export"));
        Files.writeString(target.resolve("a.npy"), "old");
        return target;
    }

    private long entries() throws IOException {
        try (Stream<Path> list = Files.list(tmp)) {
            return list.count();
        }
    }
}
