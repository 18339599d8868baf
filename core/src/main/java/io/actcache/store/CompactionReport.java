package io.actcache.store;

/**
 * What {@link ActivationStore#compact(CompactOptions)} did. Byte counts are apparent file sizes, as
 * {@code ls -l} shows them, measured on the directory before and after.
 *
 * @param filesDeleted         files deleted: column files no key references (of replaced, removed or rewritten
 *                             columns, and orphans of crashed or failed commits) and stale temporaries of the
 *                             store's own atomic replacements.
 * @param bytesDeleted         bytes of those files.
 * @param bytesTrimmed         bytes cut from live column files past their committed length.
 * @param columnsRewritten     columns copied into new files ({@link CompactOptions#rewriteKeys()}).
 * @param bytesOnDiskBefore    {@link ActivationStore#bytesOnDisk()} before: the store's accounting, which counts
 *                             live columns only, not garbage.
 * @param bytesOnDiskAfter     {@link ActivationStore#bytesOnDisk()} after.
 * @param directoryBytesBefore every file in the store directory and {@code columns/} before.
 * @param directoryBytesAfter  every file in the store directory and {@code columns/} after.
 */
public record CompactionReport(int filesDeleted, long bytesDeleted, long bytesTrimmed, int columnsRewritten,
    long bytesOnDiskBefore, long bytesOnDiskAfter, long directoryBytesBefore, long directoryBytesAfter) {

    /**
     * @return how much smaller the directory is now; negative only when the new manifest outgrew what the journal
     *     and deleted files gave back.
     */
    public long bytesReclaimed() {
        return directoryBytesBefore - directoryBytesAfter;
    }
}
