package io.actcache.store;

import io.actcache.ActCacheException;
import io.actcache.AlreadyClosedException;
import io.actcache.CorruptFileException;
import io.actcache.InvalidShapeException;
import io.actcache.KeyNotFoundException;
import io.actcache.ShapeMismatchException;
import io.actcache.StoreIOException;
import io.actcache.codec.Codec;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A persistent map from key to tensor column, stored as memory-mapped files in a directory. Columns grow by
 * appends along dim 0 at the cost of the appended bytes; reads are zero-copy {@link TensorView}s over bounded,
 * lazily mapped chunks, so stores far larger than the heap (and than RAM) are served.
 *
 * <pre>{@code
 * try (ActivationStore store = ActivationStore.create(dir, StoreOptions.defaults())) {
 *     store.append("resid_out_3", batch);          // creates the column, then grows it
 *     TensorView resid = store.get("resid_out_3");  // mapped, not copied
 * }
 * }</pre>
 *
 * <p>Every change is a commit (see {@code docs/FORMAT.md}): data is written past the committed length with
 * channel writes, forced as the {@link Durability} requires, then one journal record makes it visible. A
 * {@link Batch} commits changes to many keys atomically. Only one writer (thread or process) may hold a store;
 * any number of {@linkplain #openReadOnly(Path) readers} may open it alongside and {@link #refresh()} to see new
 * commits. Readers never open the writer's Chronicle Map index.
 *
 * <p>Threading: a store and the views it returns are confined to one thread at a time; views re-map chunks the
 * store's mapping cache evicted, which is only safe without concurrent calls.
 */
public final class ActivationStore implements AutoCloseable {
    /** Bytes before the data of a RAW DENSE column file: the padded NPY header. */
    public static final int HEADER_SIZE = ColumnFiles.NPY_HEADER_SIZE;

    private static final Logger LOG = LoggerFactory.getLogger(ActivationStore.class);
    private static final String IN_MEMORY_ROOT = "actcache-inmemory";
    private static final AtomicLong IN_MEMORY_SEQUENCE = new AtomicLong();
    /** Largest metadata value, in UTF-8 bytes. */
    public static final int MAX_METADATA_VALUE_BYTES = 1 << 20;

    private enum State { OPEN, CLOSED }

    private final Path dir;
    private final StoreOptions options;
    private final FileLayer fileLayer;
    private final Durability durability;
    private final boolean readOnly;
    private final boolean deleteOnClose;
    private final ColumnFiles columns;
    private final StoreLock lock;
    private final Set<Path> touchedSinceCheckpoint = new HashSet<>();
    private final Map<String, String> metadata = new TreeMap<>();
    private DescriptorIndex index;
    /** Set when a commit's record is durable but applying it here failed: the writer then refuses changes. */
    private RuntimeException brokenAfterCommit;
    private Journal journal;
    private long journalReadEnd;
    private long journalBaseEpoch;
    private long epoch;
    private long checkpointEpoch;
    private long nextColumnId;
    private long capacity;
    private long bytesWritten;
    private Batch activeBatch;
    private State state = State.OPEN;

    private ActivationStore(final Path dir, final StoreOptions options, final Durability durability,
        final int checksumBlockSize, final int compressionBlockSize, final boolean readOnly,
        final boolean deleteOnClose, final StoreLock lock) {
        this.dir = dir;
        this.options = options;
        this.fileLayer = options.fileLayer();
        this.durability = durability;
        this.readOnly = readOnly;
        this.deleteOnClose = deleteOnClose;
        this.lock = lock;
        this.columns = new ColumnFiles(dir, options, checksumBlockSize, compressionBlockSize, !readOnly);
    }

    /**
     * A scratch store in a new temporary directory, deleted on close: the embedded default. Durability is
     * {@link Durability#NONE}; the kernel spills its pages to disk when RAM runs short. Directories left by
     * crashed processes are swept first.
     *
     * @return the open store.
     */
    public static ActivationStore inMemory() {
        return inMemory(StoreOptions.defaults());
    }

    /**
     * @param options settings; durability is forced to {@link Durability#NONE}.
     * @return a scratch store deleted on close.
     */
    public static ActivationStore inMemory(final StoreOptions options) {
        final Path root = Path.of(System.getProperty("java.io.tmpdir")).resolve(IN_MEMORY_ROOT);
        sweepStaleInMemoryStores(root);
        final Path dir = root.resolve(ProcessHandle.current().pid() + "-" + IN_MEMORY_SEQUENCE.incrementAndGet()
            + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        return create(dir, options.toBuilder().durability(Durability.NONE).build(), true);
    }

    /**
     * Creates a store in a new or empty directory and opens it for writing.
     *
     * @param dir     the directory; created if missing, must be empty otherwise.
     * @param options creation and runtime settings.
     * @return the open store.
     * @throws ActCacheException naming the directory when it already holds files.
     */
    public static ActivationStore create(final Path dir, final StoreOptions options) {
        return create(dir, options, false);
    }

    /**
     * Opens an existing store for writing, recovering it if its last writer died.
     *
     * @param dir the store directory.
     * @return the open store.
     */
    public static ActivationStore open(final Path dir) {
        return open(dir, StoreOptions.defaults());
    }

    /**
     * Opens an existing store for writing with runtime settings (mapping and file bounds, checkpoint
     * threshold); durability and sizing come from the store's creation options.
     *
     * @param dir     the store directory.
     * @param options runtime settings.
     * @return the open store.
     * @throws io.actcache.NotAStoreException     when the directory holds no store.
     * @throws io.actcache.StoreLockedException   when another writer holds it.
     * @throws CorruptFileException               when a file is damaged beyond what recovery may repair.
     */
    public static ActivationStore open(final Path dir, final StoreOptions options) {
        return openWriter(dir, options, false);
    }

    /**
     * Opens a store for reading only: takes no lock, writes nothing (works on a read-only copy), never opens the
     * Chronicle Map. Sees the commits present at open; {@link #refresh()} shows later ones.
     *
     * @param dir the store directory.
     * @return the open reader.
     */
    public static ActivationStore openReadOnly(final Path dir) {
        return openReadOnly(dir, StoreOptions.defaults());
    }

    /**
     * @param dir     the store directory.
     * @param options runtime settings (mapping bounds).
     * @return the open reader.
     */
    public static ActivationStore openReadOnly(final Path dir, final StoreOptions options) {
        final StoreProperties properties = StoreProperties.read(dir);
        final ActivationStore store = new ActivationStore(dir, options, properties.durability(),
            properties.checksumBlockSize(), properties.compressionBlockSize(), true, false, null);
        boolean success = false;
        try {
            store.loadForReading();
            success = true;
            return store;
        } finally {
            if (!success) {
                store.columns.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- reads

    /**
     * @param key a key.
     * @return a read-only view of the key's committed tensor.
     * @throws KeyNotFoundException naming the key and up to three closest existing keys.
     */
    public TensorView get(final String key) {
        final ColumnDescriptor descriptor = require(key);
        if (descriptor.kind() == ColumnKind.LIST) {
            throw new ShapeMismatchException("key '" + Keys.escape(key) + "' is a LIST column of "
                + descriptor.shape().dim(0) + " " + descriptor.dtype() + " tensors of differing shapes; use getList");
        }
        return columns.dense(descriptor, key);
    }

    /**
     * @param key a key holding a LIST column (ragged tensors, from {@link Batch#appendToList}).
     * @return read-only views of its items, in append order.
     * @throws ShapeMismatchException when the key holds a DENSE column.
     */
    public List<TensorView> getList(final String key) {
        final ColumnDescriptor descriptor = require(key);
        if (descriptor.kind() != ColumnKind.LIST) {
            throw new ShapeMismatchException("key '" + Keys.escape(key) + "' is a " + descriptor.kind() + " column "
                + descriptor.dtype() + " " + descriptor.shape() + ", not a LIST; use get");
        }
        return columns.list(descriptor, key);
    }

    /**
     * @param key a key.
     * @return the key's column descriptor (kind, dtype, shape, codec, column id).
     * @throws KeyNotFoundException when absent.
     */
    public ColumnDescriptor describe(final String key) {
        return require(key);
    }

    /**
     * @param key a key.
     * @return the key's column file: for a RAW DENSE column, an NPY file {@code numpy.load(path, mmap_mode="r")}
     *     reads.
     */
    public Path columnFile(final String key) {
        return columns.dataFile(require(key));
    }

    /**
     * @param key a key.
     * @return true when the key is in the store.
     */
    public boolean contains(final String key) {
        checkOpen();
        return index.get(Keys.validate(key)) != null;
    }

    /** @return every key, sorted. */
    public List<String> keys() {
        checkOpen();
        final List<String> keys = new ArrayList<>(index.size());
        index.forEach((key, descriptor) -> keys.add(key));
        Collections.sort(keys);
        return keys;
    }

    /** @return every key's descriptor, sorted by key. */
    public Map<String, ColumnDescriptor> descriptors() {
        checkOpen();
        final Map<String, ColumnDescriptor> all = new TreeMap<>();
        index.forEach(all::put);
        return all;
    }

    /** @return number of keys. */
    public int size() {
        checkOpen();
        return index.size();
    }

    /** @return the store's metadata (model name, n_layers, ...: any string map), sorted by name. */
    public Map<String, String> metadata() {
        checkOpen();
        return Collections.unmodifiableMap(new TreeMap<>(metadata));
    }

    // ---------------------------------------------------------------------------------------------- writes

    /**
     * Sets metadata entries as one commit.
     *
     * @param values names (valid keys) to values; a null value removes the name.
     */
    public void putMetadata(final Map<String, String> values) {
        try (Batch batch = batch()) {
            values.forEach((name, value) -> {
                if (value == null) {
                    batch.removeMetadata(name);
                } else {
                    batch.putMetadata(name, value);
                }
            });
            batch.commit();
        }
    }

    /**
     * Appends along dim 0 as one commit; the first append creates the column.
     *
     * @param key  a key.
     * @param data rank at least 1; dtype and trailing dims must equal the column's.
     * @throws ShapeMismatchException naming the key and both shapes; the store is unchanged.
     */
    public void append(final String key, final TensorView data) {
        try (Batch batch = batch()) {
            batch.append(key, data);
            batch.commit();
        }
    }

    /**
     * @param key  a key.
     * @param data the tensor to append.
     * @see #append(String, TensorView)
     */
    public void append(final String key, final Tensor data) {
        append(key, data.view());
    }

    /**
     * Sets a key to a tensor (any rank), replacing its column, as one commit. The new column gets a new id;
     * the old file is deleted at the next checkpoint.
     *
     * @param key  a key.
     * @param data the value.
     */
    public void put(final String key, final TensorView data) {
        try (Batch batch = batch()) {
            batch.put(key, data);
            batch.commit();
        }
    }

    /**
     * @param key  a key.
     * @param data the value.
     * @see #put(String, TensorView)
     */
    public void put(final String key, final Tensor data) {
        put(key, data.view());
    }

    /**
     * Removes a key as one commit.
     *
     * @param key a key.
     * @return true when it was present.
     */
    public boolean remove(final String key) {
        if (!contains(key)) {
            return false;
        }
        try (Batch batch = batch()) {
            batch.remove(key);
            batch.commit();
        }
        return true;
    }

    /**
     * Starts an atomic multi-key change: everything staged becomes visible in one commit, or, if the batch is
     * closed without {@link Batch#commit()}, not at all. One batch at a time.
     *
     * @return the batch.
     */
    public Batch batch() {
        checkWritable();
        if (activeBatch != null) {
            throw new IllegalStateException("store " + dir + " already has an open batch; commit or close it first");
        }
        activeBatch = new Batch();
        return activeBatch;
    }

    /**
     * Writes the manifest (the checkpoint), starts a new journal generation and deletes the files of replaced
     * and removed columns. Runs by itself when the journal passes its threshold and at close.
     */
    public void checkpoint() {
        checkWritable();
        if (activeBatch != null) {
            throw new IllegalStateException("cannot checkpoint " + dir + " while a batch is open");
        }
        if (durability != Durability.NONE) {
            // The manifest is forced: what it points at must be on the device first. PROCESS commits forced
            // neither their data nor columns/, so a power loss returns a PROCESS store to its last checkpoint.
            touchedSinceCheckpoint.forEach(columns::force);
            if (durability == Durability.PROCESS && !touchedSinceCheckpoint.isEmpty()) {
                StoreFiles.forceDirectory(fileLayer, dir.resolve(StoreFiles.COLUMNS));
            }
        }
        final Map<String, ColumnDescriptor> all = descriptors();
        new Manifest(epoch, nextColumnId, all, metadata).write(fileLayer, dir.resolve(StoreFiles.MANIFEST),
            durability != Durability.NONE);
        CrashPoints.at(CrashPoints.Phase.CHECKPOINT);
        journal.close();
        journal = Journal.create(fileLayer, dir.resolve(StoreFiles.JOURNAL), epoch, durability != Durability.NONE);
        checkpointEpoch = epoch;
        touchedSinceCheckpoint.clear();
        deleteUnreferencedColumnFiles(all);
    }

    /**
     * Reclaims space with the {@linkplain CompactOptions#defaults() defaults}: rewrites no column.
     *
     * @return what was deleted, trimmed and measured.
     * @see #compact(CompactOptions)
     */
    public CompactionReport compact() {
        return compact(CompactOptions.defaults());
    }

    /**
     * Reclaims the space of replaced, removed and orphaned columns (the {@code gc} of the store), in four steps:
     * <ol>
     * <li>rewrites the columns {@link CompactOptions#rewriteKeys()} selects into new column ids, as one commit;</li>
     * <li>{@linkplain #checkpoint() checkpoints}, which deletes every file in {@code columns/} that no key
     *     references: the files of replaced, removed and rewritten columns, and orphans of crashed or failed
     *     commits;</li>
     * <li>cuts live column files back to their committed length;</li>
     * <li>rebuilds the Chronicle index at the size the keys now need (it only grows while keys come and go) and
     *     deletes stale temporaries of atomic file replacements.</li>
     * </ol>
     * A crash at any point leaves the state before the rewrite's commit or after it; garbage a crash leaves is
     * collected by the next open. Views of live columns stay valid unless rewritten. A reader in another process
     * that has not {@linkplain #refresh() refreshed} since a key was replaced gets a
     * {@link io.actcache.StaleColumnException} when it maps the deleted file, never other data.
     *
     * @param compactOptions what to rewrite.
     * @return what was deleted, trimmed and measured.
     * @throws ActCacheException     naming the store when it is open read-only.
     * @throws IllegalStateException while a batch is open.
     * @throws CorruptFileException  when a live column's file is missing or shorter than committed.
     */
    public CompactionReport compact(final CompactOptions compactOptions) {
        checkOpen();
        if (readOnly) {
            throw new ActCacheException("cannot compact store " + dir + ": it is open read-only; compacting needs "
                + "the writer (ActivationStore.open), which holds the store's lock");
        }
        if (activeBatch != null) {
            throw new IllegalStateException("cannot compact " + dir + " while a batch is open: its new files are not "
                + "committed yet; commit or close it first");
        }
        final Map<String, Long> before = DirectorySizes.of(dir);
        final long onDiskBefore = bytesOnDisk();
        final int rewritten = rewriteColumns(compactOptions);
        checkpoint();
        final long trimmed = trimColumnFiles(DirectorySizes.of(dir));
        rebuildIndexToSize();
        deleteStaleTemporaries();
        final Map<String, Long> after = DirectorySizes.of(dir);
        int filesDeleted = 0;
        long bytesDeleted = 0;
        for (final Map.Entry<String, Long> file : before.entrySet()) {
            if (!after.containsKey(file.getKey())) {
                filesDeleted++;
                bytesDeleted += file.getValue();
            }
        }
        final CompactionReport report = new CompactionReport(filesDeleted, bytesDeleted, trimmed, rewritten,
            onDiskBefore, bytesOnDisk(), DirectorySizes.total(before), DirectorySizes.total(after));
        LOG.info("compacted {}: {}", dir, report);
        return report;
    }

    private int rewriteColumns(final CompactOptions compactOptions) {
        final List<String> selected = new ArrayList<>();
        for (final String key : keys()) {
            if (compactOptions.rewrites(key, index.get(key))) {
                selected.add(key);
            }
        }
        if (!selected.isEmpty()) {
            try (Batch batch = batch()) {
                selected.forEach(key -> batch.rewrite(key, compactOptions.codec().orElse(null)));
                batch.commit();
            }
        }
        return selected.size();
    }

    /** Cuts bytes past the committed length of live column files; a file shorter than committed is corruption. */
    private long trimColumnFiles(final Map<String, Long> sizes) {
        long trimmed = 0;
        for (final Map.Entry<String, ColumnDescriptor> entry : descriptors().entrySet()) {
            final ColumnDescriptor descriptor = entry.getValue();
            long actual = 0;
            for (final Path file : columns.files(descriptor.columnId(), descriptor.kind(), descriptor.codec())) {
                final Long size = sizes.get(StoreFiles.COLUMNS + "/" + file.getFileName());
                if (size == null) {
                    throw new CorruptFileException("column file " + file + " of key '" + Keys.escape(entry.getKey())
                        + "' (column " + descriptor.columnId() + ") is missing: committed data was lost");
                }
                actual += size;
            }
            final long committed = columns.committedFileBytes(descriptor);
            if (actual != committed) {
                columns.truncateToCommitted(descriptor, true);
                trimmed += actual - committed;
            }
        }
        return trimmed;
    }

    /**
     * Rebuilds the index at the capacity the keys need now: a Chronicle Map never shrinks, so one that grew for
     * many keys keeps its size after they are removed. The old index is closed first: Chronicle keeps one open
     * file per path in a process, so opening the rebuilt file beside it handed back the old, deleted one.
     */
    private void rebuildIndexToSize() {
        final long target = Math.max(StoreProperties.read(dir).expectedKeys(), 2L * index.size());
        final HeapIndex staging = new HeapIndex(new Manifest(epoch, nextColumnId, descriptors(), metadata));
        staging.appliedEpoch(index.appliedEpoch());
        index.close();
        try {
            index = ChronicleIndex.rebuild(fileLayer, dir.resolve(StoreFiles.INDEX), target, staging);
            capacity = target;
        } catch (final StoreIOException e) {
            // The index is derived: serve this session from the heap; the next open rebuilds the file.
            LOG.warn("cannot rebuild index of {} ({}); using an in-memory index until the next open", dir,
                e.getMessage());
            index = staging;
        }
    }

    /** Deletes temporaries a writer that died inside an atomic replacement left; only a writer creates them. */
    private void deleteStaleTemporaries() {
        for (final String name : new String[] {StoreFiles.PROPERTIES + ".tmp", StoreFiles.MANIFEST + ".tmp",
            StoreFiles.JOURNAL + ".tmp", StoreFiles.INDEX + ".rebuild"}) {
            try {
                fileLayer.deleteIfExists(dir.resolve(name));
            } catch (final IOException e) {
                throw new StoreIOException("cannot delete stale temporary " + dir.resolve(name) + ": " + e, e);
            }
        }
    }

    /**
     * Checks every committed byte of every key against its block checksums, and every NPY header against its
     * descriptor (the header is what numpy reads). Opening checks only cheap things; this reads everything.
     *
     * @return data bytes checked.
     * @throws CorruptFileException naming the file, key, block and offset of the first problem; problems in
     *     other keys are attached as suppressed exceptions.
     */
    public long verify() {
        checkOpen();
        long checked = 0;
        CorruptFileException failure = null;
        for (final Map.Entry<String, ColumnDescriptor> entry : descriptors().entrySet()) {
            try {
                checked += verify(entry.getKey(), entry.getValue());
            } catch (final CorruptFileException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return checked;
    }

    /**
     * Checks one key's files as {@link #verify()} does: every checksum block of its data and its NPY header.
     * Commands that show progress verify key by key.
     *
     * @param key a key.
     * @return bytes of data checked.
     * @throws KeyNotFoundException naming the key when it is absent.
     * @throws CorruptFileException naming file, key, block and offset of the first mismatch.
     */
    public long verify(final String key) {
        checkOpen();
        return verify(key, require(key));
    }

    private long verify(final String key, final ColumnDescriptor descriptor) {
        final long checked = columns.verify(descriptor, key);
        verifyHeader(key, descriptor);
        return checked;
    }

    private void verifyHeader(final String key, final ColumnDescriptor descriptor) {
        if (descriptor.kind() != ColumnKind.DENSE || descriptor.codec().isBlockCompressed()) {
            return;
        }
        final Path file = columns.dataFile(descriptor);
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file)) {
            final io.actcache.format.NpyHeader header;
            try {
                header = io.actcache.format.NpyHeader.read(channel, file.toString());
            } catch (final CorruptFileException | io.actcache.UnsupportedFormatException e) {
                throw new CorruptFileException("key '" + Keys.escape(key) + "': the NPY header of " + file
                    + " is damaged: " + e.getMessage(), e);
            }
            if (header.dtype() != descriptor.dtype() || header.dataOffset() != HEADER_SIZE
                || !(header.shape().equals(descriptor.shape())
                || readOnly && isLaterCommit(header.shape(), descriptor, channel.size()))) {
                throw new CorruptFileException("key '" + Keys.escape(key) + "': the NPY header of " + file + " says "
                    + header.dtype() + " " + header.shape() + " at offset " + header.dataOffset() + ", the store has "
                    + descriptor.dtype() + " " + descriptor.shape() + " at offset " + HEADER_SIZE);
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot read the NPY header of " + file + ": " + e, e);
        }
    }

    /**
     * A reader verifies while the writer may commit, and the writer rewrites a column's header after each commit:
     * a reader's descriptor may be behind the header. The header is then the same column with more rows, all of
     * them already in the file; anything else is damage.
     */
    private static boolean isLaterCommit(final Shape header, final ColumnDescriptor descriptor, final long fileSize) {
        return header.sameTrailingDims(descriptor.shape()) && header.dim(0) > descriptor.shape().dim(0)
            && HEADER_SIZE + header.byteSize(descriptor.dtype()) <= fileSize;
    }

    /**
     * Reader only: applies commits made since open or the last refresh. Views taken before keep reading the
     * values of their epoch, unchanged, except where a checkpoint has since deleted the file of a replaced or removed
     * key: a chunk still mapped reads as before, one not mapped throws {@link io.actcache.StaleColumnException}
     * (get the key again after this refresh); never other bytes.
     *
     * @return true when something new was seen.
     */
    public boolean refresh() {
        checkOpen();
        if (!readOnly) {
            return false;
        }
        final long before = epoch;
        final JournalReader.Scan scan = JournalReader.scan(dir.resolve(StoreFiles.JOURNAL), journalReadEnd, epoch,
            journalBaseEpoch);
        if (scan == null || scan.generationChanged()) {
            loadForReading();
        } else {
            scan.records().forEach(this::applyCommitted);
            journalReadEnd = scan.validEnd();
        }
        return epoch != before;
    }

    // ---------------------------------------------------------------------------------------------- accounting

    /** @return the store directory. */
    public Path directory() {
        return dir;
    }

    /** @return true for a reader. */
    public boolean isReadOnly() {
        return readOnly;
    }

    /** @return the durability of commits. */
    public Durability durability() {
        return durability;
    }

    /** @return the epoch of the last commit seen. */
    public long epoch() {
        return epoch;
    }

    /** @return committed tensor bytes over all keys. */
    public long bytesStored() {
        final long[] total = new long[1];
        checkOpen();
        index.forEach((key, descriptor) -> total[0] += descriptor.byteSize());
        return total[0];
    }

    /**
     * @return apparent bytes of the store's files: every column's files at their committed length (computed
     *     from the descriptors, no file is touched) plus the manifest, journal, index and properties as they
     *     are. Uncommitted bytes a crashed append left, cut on recovery, are not counted.
     */
    public long bytesOnDisk() {
        checkOpen();
        final long[] total = new long[1];
        index.forEach((key, descriptor) -> total[0] += columns.committedFileBytes(descriptor));
        for (final String name : new String[] {StoreFiles.PROPERTIES, StoreFiles.MANIFEST, StoreFiles.JOURNAL,
            StoreFiles.INDEX}) {
            try {
                total[0] += Files.size(dir.resolve(name));
            } catch (final IOException e) {
                // The index of a reader's directory may be absent; a checkpoint may be replacing the journal.
            }
        }
        return total[0];
    }

    /** @return bytes mapped now. */
    public long bytesMapped() {
        return columns.mappings().mappedBytes();
    }

    /** @return mappings alive now (at most {@link StoreOptions#maxMappedChunks()}). */
    public int mappedChunks() {
        return columns.mappings().mappedChunks();
    }

    /** @return the column files, for tests of this package (the decompressed block pool). */
    ColumnFiles columnFilesForTest() {
        return columns;
    }

    /** @return column files the writer holds open now (at most {@link StoreOptions#maxOpenFiles()}). */
    public int openFiles() {
        return columns.openFiles();
    }

    /** @return the index's applied epoch (tests observe when the index advances within a commit). */
    long indexAppliedEpoch() {
        return index.appliedEpoch();
    }

    /** @return bytes this store instance wrote: tensor data, header updates, journal records. */
    public long bytesWritten() {
        return bytesWritten + columns.bytesWritten();
    }

    /**
     * Closes the store: checkpoints a writer, unmaps every chunk, closes files, releases the lock, deletes an
     * in-memory store's directory. Idempotent. Views of this store throw {@link AlreadyClosedException} after.
     */
    @Override
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        RuntimeException failure = null;
        if (activeBatch != null) {
            failure = collect(failure, activeBatch::close);
        }
        // After a commit whose derived state failed, the in-memory state lacks a durable record: no checkpoint, and
        // an unclean close, so the next open replays the journal.
        boolean clean = brokenAfterCommit == null;
        if (clean && !readOnly && !deleteOnClose && epoch != checkpointEpoch) {
            try {
                checkpoint();
            } catch (final RuntimeException e) {
                clean = false;
                failure = collect(failure, () -> {
                    throw e;
                });
            }
        }
        state = State.CLOSED;
        if (journal != null) {
            failure = collect(failure, journal::close);
        }
        failure = collect(failure, columns::close);
        if (index != null) {
            failure = collect(failure, index::close);
        }
        if (clean && lock != null && !deleteOnClose && durability != Durability.NONE) {
            final RuntimeException forceFailure = collect(null, this::forceIndexFile);
            if (forceFailure != null) {
                clean = false;
                failure = collect(failure, () -> {
                    throw forceFailure;
                });
            }
        }
        if (lock != null) {
            if (clean) {
                failure = collect(failure, lock::close);
            } else {
                lock.abandon();
            }
        }
        if (deleteOnClose) {
            failure = collect(failure, () -> StoreFiles.deleteTree(dir));
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "ActivationStore[" + dir + (readOnly ? ", read-only" : "") + ", epoch " + epoch + "]";
    }

    // ---------------------------------------------------------------------------------------------- batch

    /**
     * Changes to many keys that commit atomically. Data is written as it is staged (past each column's
     * committed length, invisible to readers); {@link #commit()} makes all of it visible with one journal record.
     * Closing without committing discards everything. One thread only; obtained from {@link #batch()}.
     */
    public final class Batch implements AutoCloseable {
        private final LinkedHashMap<String, ColumnDescriptor> staged = new LinkedHashMap<>();
        private final LinkedHashMap<String, String> stagedMetadata = new LinkedHashMap<>();
        private final Map<Long, List<Path>> createdColumns = new java.util.HashMap<>();
        private final Set<Path> writtenFiles = new HashSet<>();
        private boolean done;

        private Batch() {
        }

        /**
         * Stages an append along dim 0 (creating the column on first append).
         *
         * @param key  a key.
         * @param data rank at least 1, same dtype and trailing dims as the column.
         * @return this.
         */
        public Batch append(final String key, final TensorView data) {
            checkActive();
            Keys.validate(key);
            if (data.shape().rank() == 0) {
                throw new ShapeMismatchException("append to key '" + Keys.escape(key) + "' needs rank >= 1, got a "
                    + data.dtype() + " scalar " + data.shape() + "; use put for scalars");
            }
            final ColumnDescriptor current = current(key);
            if (current == null) {
                staged.put(key, createDense(key, data));
                return this;
            }
            if (current.kind() != ColumnKind.DENSE || current.dtype() != data.dtype()
                || !current.shape().sameTrailingDims(data.shape())) {
                throw new ShapeMismatchException("append to key '" + Keys.escape(key) + "': the column holds "
                    + current.dtype() + " " + current.shape() + " (" + current.kind() + "), the batch is "
                    + data.dtype() + " " + data.shape() + "; dtype and trailing dims must match");
            }
            final Shape grown;
            try {
                grown = current.shape().withDim0(Math.addExact(current.shape().dim(0), data.shape().dim(0)));
                grown.byteSize(current.dtype());
            } catch (final ArithmeticException e) {
                throw new InvalidShapeException("append to key '" + Keys.escape(key) + "' overflows dim 0: "
                    + current.shape() + " + " + data.shape(), e);
            }
            // data and .crc, or compressed data and block index
            writtenFiles.addAll(columns.files(current.columnId(), current.kind(), current.codec()));
            staged.put(key, columns.appendDense(current, grown, data, key));
            CrashPoints.at(CrashPoints.Phase.DATA_WRITE);
            return this;
        }

        /**
         * @param key  a key.
         * @param data a tensor.
         * @return this.
         */
        public Batch append(final String key, final Tensor data) {
            return append(key, data.view());
        }

        /**
         * Stages a replacement of the key's value (any rank) by a new column.
         *
         * @param key  a key.
         * @param data the value.
         * @return this.
         */
        public Batch put(final String key, final TensorView data) {
            checkActive();
            Keys.validate(key);
            staged.put(key, createDense(key, data));
            return this;
        }

        /**
         * Stages an append of one tensor to a LIST column (ragged: shapes may differ, the dtype may not),
         * creating the column on first use. Costs the item's bytes plus one 80-byte record.
         *
         * @param key  a key.
         * @param item a tensor of any rank.
         * @return this.
         * @throws ShapeMismatchException when the key holds a DENSE column or another dtype.
         */
        public Batch appendToList(final String key, final TensorView item) {
            checkActive();
            Keys.validate(key);
            ColumnDescriptor current = current(key);
            if (current == null) {
                final long columnId = nextColumnId++;
                createdColumns.put(columnId, columns.files(columnId, ColumnKind.LIST));
                writtenFiles.addAll(columns.files(columnId, ColumnKind.LIST));
                current = columns.createList(columnId, item.dtype(), key);
            } else if (current.kind() != ColumnKind.LIST || current.dtype() != item.dtype()) {
                throw new ShapeMismatchException("append to list key '" + Keys.escape(key) + "': the column holds "
                    + current.kind() + " " + current.dtype() + " " + current.shape() + ", the item is "
                    + item.dtype() + " " + item.shape() + "; a LIST takes items of its own dtype");
            } else {
                writtenFiles.addAll(columns.files(current.columnId(), ColumnKind.LIST));
            }
            staged.put(key, columns.appendListItem(current, item, key));
            return this;
        }

        /**
         * @param key  a key.
         * @param data the value.
         * @return this.
         */
        public Batch put(final String key, final Tensor data) {
            return put(key, data.view());
        }

        /**
         * Stages a copy of a committed column into a new column id, value for value (compaction), in
         * {@code codec} (null: its own); a LIST column stays RAW.
         *
         * @param key   a present key, not yet staged in this batch.
         * @param codec the new column's codec, or null.
         */
        private void rewrite(final String key, final Codec codec) {
            checkActive();
            final ColumnDescriptor current = index.get(key);
            if (current.kind() == ColumnKind.LIST) {
                final long columnId = nextColumnId++;
                createdColumns.put(columnId, columns.files(columnId, ColumnKind.LIST));
                writtenFiles.addAll(columns.files(columnId, ColumnKind.LIST));
                ColumnDescriptor copy = columns.createList(columnId, current.dtype(), key);
                for (final TensorView item : columns.list(current, key)) {
                    copy = columns.appendListItem(copy, item, key);
                }
                staged.put(key, copy);
            } else {
                staged.put(key, createDense(key, columns.dense(current, key), codec == null ? current.codec() : codec));
            }
            CrashPoints.at(CrashPoints.Phase.DATA_WRITE);
        }

        /**
         * Stages the removal of a key.
         *
         * @param key a present key.
         * @return this.
         * @throws KeyNotFoundException when the key is absent.
         */
        public Batch remove(final String key) {
            checkActive();
            Keys.validate(key);
            if (current(key) == null) {
                throw notFound(key);
            }
            staged.put(key, null);
            return this;
        }

        /**
         * Stages a metadata value.
         *
         * @param name  a name, following the rules for keys.
         * @param value any text up to 1 MiB of UTF-8.
         * @return this.
         */
        public Batch putMetadata(final String name, final String value) {
            checkActive();
            Keys.validate(name);
            if (value == null) {
                throw new IllegalArgumentException("metadata '" + Keys.escape(name) + "' value must not be null;"
                    + " use removeMetadata");
            }
            final int length = value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (length > MAX_METADATA_VALUE_BYTES) {
                throw new IllegalArgumentException("metadata '" + Keys.escape(name) + "' value is " + length
                    + " UTF-8 bytes, above the limit of " + MAX_METADATA_VALUE_BYTES);
            }
            stagedMetadata.put(name, value);
            return this;
        }

        /**
         * Stages the removal of a metadata name (absent is fine).
         *
         * @param name a name.
         * @return this.
         */
        public Batch removeMetadata(final String name) {
            checkActive();
            stagedMetadata.put(Keys.validate(name), null);
            return this;
        }

        /** @return keys staged so far. */
        public Set<String> stagedKeys() {
            return Collections.unmodifiableSet(staged.keySet());
        }

        /**
         * Makes every staged change visible at once: forces data as the durability requires, appends one journal
         * record (the commit point), then updates NPY headers and the index. A batch with nothing staged
         * commits nothing.
         */
        public void commit() {
            checkActive();
            done = true;
            activeBatch = null;
            if (staged.isEmpty() && stagedMetadata.isEmpty()) {
                return;
            }
            final List<JournalRecord.Entry> entries = new ArrayList<>(staged.size());
            staged.forEach((key, descriptor) -> entries.add(new JournalRecord.Entry(key, descriptor)));
            final List<JournalRecord.MetadataEntry> changes = new ArrayList<>(stagedMetadata.size());
            stagedMetadata.forEach((name, value) -> changes.add(new JournalRecord.MetadataEntry(name, value)));
            final JournalRecord record = new JournalRecord(epoch + 1, nextColumnId, entries, changes);
            try {
                if (durability == Durability.FSYNC) {
                    writtenFiles.forEach(columns::force);
                    if (!createdColumns.isEmpty()) {
                        StoreFiles.forceDirectory(fileLayer, dir.resolve(StoreFiles.COLUMNS));
                    }
                }
                bytesWritten += journal.append(record, durability == Durability.FSYNC);
            } catch (final RuntimeException e) {
                discardWrites();
                throw e;
            }
            // Committed. What follows is derived state, repaired on open after an unclean shutdown.
            try {
                CrashPoints.at(CrashPoints.Phase.HEADER_REWRITE);
                for (final JournalRecord.Entry entry : entries) {
                    if (!entry.isRemoval()) {
                        columns.updateHeader(entry.descriptor(), false);
                    }
                }
                CrashPoints.at(CrashPoints.Phase.INDEX_UPDATE);
                applyCommitted(record);
            } catch (final RuntimeException e) {
                // The record is durable but this writer's state is not: another commit would reuse its epoch and a
                // clean close would checkpoint without it. Refuse both; the next open replays the journal.
                brokenAfterCommit = e;
                throw new ActCacheException("store " + dir + ": epoch " + record.epoch() + " is committed (it is in "
                    + "the journal), but updating the store after it failed: " + e + "; this writer takes no more "
                    + "changes: close and reopen the store, which recovers it from the journal", e);
            }
            touchedSinceCheckpoint.addAll(writtenFiles);
            if (journal.size() > options.checkpointJournalBytes()) {
                checkpoint();
            }
        }

        /** Discards the batch if it was not committed. Idempotent. */
        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            activeBatch = null;
            discardWrites();
        }

        private ColumnDescriptor current(final String key) {
            if (staged.containsKey(key)) {
                return staged.get(key);
            }
            return index.get(key);
        }

        private ColumnDescriptor createDense(final String key, final TensorView data) {
            return createDense(key, data, options.codecPolicy().codecFor(key));
        }

        /** Creates a DENSE column; scalars stay RAW whatever the codec (a block needs rows). */
        private ColumnDescriptor createDense(final String key, final TensorView data, final Codec requested) {
            final Codec codec = data.shape().rank() == 0 ? Codec.RAW : requested;
            final long columnId = nextColumnId++;
            final List<Path> files = columns.files(columnId, ColumnKind.DENSE, codec);
            createdColumns.put(columnId, files);
            writtenFiles.addAll(files);
            return columns.createDense(columnId, codec, data, key);
        }

        private void discardWrites() {
            createdColumns.forEach((columnId, files) -> {
                for (final Path file : files) {
                    try {
                        columns.delete(columnId, file);
                    } catch (final RuntimeException e) {
                        LOG.warn("cannot delete uncommitted column file {}: {}", file, e.toString());
                    }
                }
            });
            for (final String key : staged.keySet()) {
                final ColumnDescriptor committed = index.get(key);
                if (committed != null && !createdColumns.containsKey(committed.columnId())) {
                    try {
                        columns.truncateToCommitted(committed, false);
                    } catch (final RuntimeException e) {
                        LOG.warn("cannot cut uncommitted bytes of key '{}': {}", Keys.escape(key), e.toString());
                    }
                }
            }
        }

        private void checkActive() {
            checkWritable();
            if (done) {
                throw new IllegalStateException("batch on " + dir + " was already committed or closed");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- internals

    private static ActivationStore create(final Path dir, final StoreOptions options, final boolean deleteOnClose) {
        try {
            if (Files.exists(dir)) {
                if (!Files.isDirectory(dir)) {
                    throw new ActCacheException("cannot create a store at " + dir + ": it is a file, not a directory");
                }
                if (Files.exists(dir.resolve(StoreFiles.PROPERTIES))) {
                    throw new ActCacheException("cannot create a store at " + dir + ": it already holds one; open it");
                }
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                    if (entries.iterator().hasNext()) {
                        throw new ActCacheException("cannot create a store at " + dir + ": the directory is not empty");
                    }
                }
            }
            options.fileLayer().createDirectories(dir.resolve(StoreFiles.COLUMNS));
        } catch (final IOException e) {
            throw new StoreIOException("cannot create store directory " + dir + ": " + e, e);
        }
        final boolean force = options.durability() != Durability.NONE;
        final Path parent = dir.toAbsolutePath().getParent();
        if (force && parent != null) {
            StoreFiles.forceDirectory(options.fileLayer(), parent); // the store directory's own entry
        }
        // The writer lock first: two processes creating the same store at once must not both write its files (the
        // loser's manifest and journal would replace those of a winner already committing).
        final StoreLock lock = StoreLock.acquire(options.fileLayer(), dir, !deleteOnClose);
        boolean handedOver = false;
        try {
            if (Files.exists(dir.resolve(StoreFiles.PROPERTIES))) {
                throw new ActCacheException("cannot create a store at " + dir + ": another process created one there "
                    + "meanwhile; open it");
            }
            Manifest.empty().write(options.fileLayer(), dir.resolve(StoreFiles.MANIFEST), force);
            Journal.create(options.fileLayer(), dir.resolve(StoreFiles.JOURNAL), 0, force).close();
            // Written last: a directory without it is not a store, so a crash during create leaves no half store.
            StoreProperties.of(options).write(options.fileLayer(), dir, force);
            final StoreProperties properties = StoreProperties.read(dir);
            handedOver = true;
            return openWriter(dir, options, deleteOnClose, properties, lock);
        } finally {
            if (!handedOver) {
                lock.close();
            }
        }
    }

    private static ActivationStore openWriter(final Path dir, final StoreOptions options, final boolean deleteOnClose) {
        // Properties first: a directory that is not a store gets no lock file.
        final StoreProperties properties = StoreProperties.read(dir);
        return openWriter(dir, options, deleteOnClose, properties,
            StoreLock.acquire(options.fileLayer(), dir, !deleteOnClose));
    }

    /** Opens the writer with the lock already held; on failure the lock is given up as a crash would leave it. */
    private static ActivationStore openWriter(final Path dir, final StoreOptions options, final boolean deleteOnClose,
        final StoreProperties properties, final StoreLock lock) {
        final ActivationStore store =
            new ActivationStore(dir, options, properties.durability(), properties.checksumBlockSize(),
                properties.compressionBlockSize(), false, deleteOnClose, lock);
        boolean success = false;
        try {
            store.recoverAndOpenIndex(properties, lock.previousOwnerDied());
            success = true;
            return store;
        } finally {
            if (!success) {
                store.abandonAfterFailedOpen();
            }
        }
    }

    private void recoverAndOpenIndex(final StoreProperties properties, final boolean unclean) {
        if (unclean && durability == Durability.NONE) {
            throw new CorruptFileException("store " + dir + " was not closed cleanly (" + StoreFiles.LOCK_PID
                + " was left by a writer that died) and has durability NONE, which keeps no recovery guarantees; "
                + "its contents may be incomplete. Delete it, or copy what you need with openReadOnly");
        }
        final Path manifestFile = dir.resolve(StoreFiles.MANIFEST);
        final Manifest.Header header = Manifest.readHeader(manifestFile);
        if (header == null) {
            throw new CorruptFileException("store " + dir + " has no " + StoreFiles.MANIFEST);
        }
        final Path journalFile = dir.resolve(StoreFiles.JOURNAL);
        JournalReader.Scan scan = JournalReader.scan(journalFile);
        if (scan != null && scan.baseEpoch() > header.epoch()) {
            throw new CorruptFileException("journal " + journalFile + " starts after epoch " + scan.baseEpoch()
                + " but manifest " + manifestFile + " is at epoch " + header.epoch() + ": commits in between are lost");
        }
        if (scan == null || scan.baseEpoch() < header.epoch()) {
            // Crashed between writing the manifest and starting the new journal generation: the old records are
            // all in the manifest.
            Journal.create(fileLayer, journalFile, header.epoch(), durability != Durability.NONE).close();
            scan = JournalReader.scan(journalFile);
        }
        final List<JournalRecord> records = scan.records();
        final long lastEpoch = scan.lastEpoch(header.epoch());
        nextColumnId = records.isEmpty() ? header.nextColumnId()
            : Math.max(header.nextColumnId(), records.get(records.size() - 1).nextColumnId());
        capacity = Math.max(properties.expectedKeys(), 2 * header.keyCount());
        index = openIndex(header, records, lastEpoch, unclean);
        metadata.putAll(header.metadata());
        records.forEach(this::applyMetadata);
        epoch = lastEpoch;
        checkpointEpoch = header.epoch();
        if (scan.tornBytes() > 0) {
            LOG.warn("journal {}: dropping a torn tail of {} bytes after epoch {}", journalFile, scan.tornBytes(),
                lastEpoch);
        }
        journal = Journal.openForAppend(fileLayer, journalFile, scan.validEnd());
        if (unclean) {
            repairColumnFiles();
        }
    }

    private DescriptorIndex openIndex(final Manifest.Header header, final List<JournalRecord> records,
        final long lastEpoch, final boolean unclean) {
        final Path indexFile = dir.resolve(StoreFiles.INDEX);
        if (!unclean && Files.exists(indexFile)) {
            final ChronicleIndex existing = openExistingIndex(indexFile);
            if (existing != null) {
                final long applied = existing.appliedEpoch();
                if (applied > lastEpoch) {
                    existing.close();
                    throw new CorruptFileException("index " + indexFile + " has applied epoch " + applied
                        + " but the journal's last valid record is epoch " + lastEpoch + ": committed records are lost");
                }
                if (applied >= header.epoch()) {
                    for (final JournalRecord record : records) {
                        if (record.epoch() > applied) {
                            existing.apply(record);
                        }
                    }
                    return existing;
                }
                LOG.info("index {} is stale (epoch {} before checkpoint {}); rebuilding", indexFile, applied,
                    header.epoch());
                existing.close();
            }
        }
        // The old index is derived and about to be replaced: free its space first, which a full disk needs.
        try {
            fileLayer.deleteIfExists(indexFile);
        } catch (final IOException e) {
            throw new StoreIOException("cannot delete stale index " + indexFile + ": " + e, e);
        }
        final Manifest manifest = Manifest.read(dir.resolve(StoreFiles.MANIFEST));
        final HeapIndex staging = new HeapIndex(manifest);
        records.forEach(staging::apply);
        capacity = Math.max(capacity, 2L * staging.size());
        try {
            return ChronicleIndex.rebuild(fileLayer, indexFile, capacity, staging);
        } catch (final StoreIOException e) {
            // A full disk must not make the store unopenable: the index is derived, so serve this session from
            // the heap and rebuild the file at the next open.
            LOG.warn("cannot rebuild index {} ({}); using an in-memory index until the next open", indexFile,
                e.getMessage());
            return staging;
        }
    }

    private ChronicleIndex openExistingIndex(final Path indexFile) {
        try {
            return ChronicleIndex.open(fileLayer, indexFile, capacity);
        } catch (final CorruptFileException e) {
            LOG.warn("index {} is unusable, rebuilding it from the manifest and journal: {}", indexFile,
                e.getMessage());
            return null;
        }
    }

    /**
     * After an unclean shutdown: cut uncommitted bytes, rewrite headers that differ from their descriptor (every
     * key: with durability PROCESS the records naming the keys touched since the checkpoint may be lost), delete
     * uncommitted new files. Rewritten headers are forced by the next checkpoint, before its manifest.
     */
    private void repairColumnFiles() {
        final Map<String, ColumnDescriptor> committed = descriptors();
        for (final ColumnDescriptor descriptor : committed.values()) {
            columns.truncateToCommitted(descriptor, true);
            if (columns.repairHeader(descriptor)) {
                touchedSinceCheckpoint.add(columns.dataFile(descriptor));
            }
        }
        deleteUnreferencedColumnFiles(committed);
        LOG.warn("store {} was not closed cleanly; recovered to epoch {}", dir, epoch);
    }

    private void loadForReading() {
        final Path manifestFile = dir.resolve(StoreFiles.MANIFEST);
        final Path journalFile = dir.resolve(StoreFiles.JOURNAL);
        for (int attempt = 0; ; attempt++) {
            final Manifest manifest = Manifest.read(manifestFile);
            if (manifest == null) {
                throw new CorruptFileException("store " + dir + " has no " + StoreFiles.MANIFEST);
            }
            final JournalReader.Scan scan = JournalReader.scan(journalFile);
            if (scan != null && scan.baseEpoch() > manifest.epoch()) {
                if (attempt < 20) {
                    continue; // a checkpoint ran between the two reads; read both again
                }
                throw new CorruptFileException("journal " + journalFile + " starts after epoch " + scan.baseEpoch()
                    + " but manifest " + manifestFile + " is at epoch " + manifest.epoch());
            }
            final HeapIndex heap = new HeapIndex(manifest);
            epoch = manifest.epoch();
            final Map<Long, ColumnKind> previous = new HashMap<>();
            if (index != null) {
                index.forEach((key, descriptor) -> previous.put(descriptor.columnId(), descriptor.kind()));
                index.close();
            }
            index = heap;
            metadata.clear();
            metadata.putAll(manifest.metadata());
            nextColumnId = manifest.nextColumnId();
            if (scan != null) {
                for (final JournalRecord record : scan.records()) {
                    if (record.epoch() > epoch) {
                        applyCommitted(record);
                    }
                }
                journalReadEnd = scan.validEnd();
                journalBaseEpoch = scan.baseEpoch();
            }
            releaseColumnsNoLongerIndexed(previous);
            return;
        }
    }

    /**
     * Unmaps the columns a refresh across a checkpoint dropped (the per-record release sees only the journal's
     * records): their files are deleted, and a mapping would hold their disk space until evicted.
     */
    private void releaseColumnsNoLongerIndexed(final Map<Long, ColumnKind> previous) {
        final Set<Long> live = new HashSet<>();
        index.forEach((key, descriptor) -> live.add(descriptor.columnId()));
        previous.forEach((columnId, kind) -> {
            if (!live.contains(columnId)) {
                columns.release(columnId, kind);
            }
        });
    }

    private void applyCommitted(final JournalRecord record) {
        for (final JournalRecord.Entry entry : record.entries()) {
            final ColumnDescriptor previous = index.get(entry.key());
            if (previous != null && (entry.isRemoval() || previous.columnId() != entry.descriptor().columnId())) {
                columns.release(previous.columnId(), previous.kind());
            }
        }
        final long added = record.entries().stream()
            .filter(entry -> !entry.isRemoval() && index.get(entry.key()) == null).count();
        // One record may add more keys than the map's whole capacity: grow to fit all of them.
        if (index instanceof ChronicleIndex && ((ChronicleIndex) index).isFull(added + 1)) {
            growIndex(added);
        }
        try {
            index.apply(record);
        } catch (final IllegalStateException e) {
            if (!(index instanceof ChronicleIndex)) {
                throw e;
            }
            // Chronicle ran out of segment tiers before isFull expected (keys far longer than the map was sized
            // for): grow and apply again; the record's set and remove entries apply idempotently.
            LOG.info("index of {} is full ({}); growing it", dir, e.getMessage());
            growIndex(added);
            index.apply(record);
        }
        applyMetadata(record);
        epoch = record.epoch();
        nextColumnId = Math.max(nextColumnId, record.nextColumnId());
    }

    private void applyMetadata(final JournalRecord record) {
        for (final JournalRecord.MetadataEntry change : record.metadata()) {
            if (change.value() == null) {
                metadata.remove(change.name());
            } else {
                metadata.put(change.name(), change.value());
            }
        }
    }

    private void growIndex(final long added) {
        final HeapIndex staging = new HeapIndex(new Manifest(epoch, nextColumnId, descriptors(), metadata));
        staging.appliedEpoch(index.appliedEpoch());
        final long grown = Math.max(capacity * 2, 2 * (staging.size() + added));
        LOG.info("index of {} grows to {} keys", dir, grown);
        // Closed first: Chronicle Map must not have the file open twice in one process.
        index.close();
        try {
            index = ChronicleIndex.rebuild(fileLayer, dir.resolve(StoreFiles.INDEX), grown, staging);
        } catch (final StoreIOException e) {
            // The commit is already in the journal and the index is derived: serve this session from the heap, as
            // openIndex does, and let the next open rebuild the file.
            LOG.warn("cannot grow index of {} to {} keys ({}); using an in-memory index until the next open", dir,
                grown, e.getMessage());
            index = staging;
        }
        capacity = grown;
    }

    private void deleteUnreferencedColumnFiles(final Map<String, ColumnDescriptor> live) {
        final Set<Long> liveIds = new HashSet<>();
        live.values().forEach(descriptor -> liveIds.add(descriptor.columnId()));
        final Path columnsDir = dir.resolve(StoreFiles.COLUMNS);
        boolean deleted = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(columnsDir)) {
            for (final Path file : files) {
                final long columnId = StoreFiles.columnIdOf(file.getFileName().toString());
                if (columnId > 0 && !liveIds.contains(columnId)) {
                    columns.delete(columnId, file);
                    if (!deleted) {
                        CrashPoints.at(CrashPoints.Phase.COLLECT);
                    }
                    deleted = true;
                }
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot collect old column files in " + columnsDir + ": " + e, e);
        }
        if (deleted && durability != Durability.NONE) {
            StoreFiles.forceDirectory(fileLayer, columnsDir);
        }
    }

    private ColumnDescriptor require(final String key) {
        checkOpen();
        final ColumnDescriptor descriptor = index.get(Keys.validate(key));
        if (descriptor == null) {
            throw notFound(key);
        }
        return descriptor;
    }

    private KeyNotFoundException notFound(final String key) {
        final List<String> closest = Keys.closest(key, keys(), 3);
        return new KeyNotFoundException("key '" + Keys.escape(key) + "' is not in store " + dir
            + (closest.isEmpty() ? " (it is empty)" : "; closest keys: " + closest));
    }

    private void checkOpen() {
        if (state == State.CLOSED) {
            throw new AlreadyClosedException("store " + dir + " is closed");
        }
    }

    private void checkWritable() {
        checkOpen();
        if (readOnly) {
            throw new ActCacheException("store " + dir + " is open read-only");
        }
        if (brokenAfterCommit != null) {
            throw new ActCacheException("store " + dir + " takes no more changes: a commit is durable in the journal "
                + "but updating the store after it failed (" + brokenAfterCommit + "); close and reopen it to recover",
                brokenAfterCommit);
        }
    }

    /**
     * Chronicle writes the index through its own mappings and never forces them. A clean close deletes
     * {@code lock.pid}, after which the next open trusts the index, so it must be on the device first.
     */
    private void forceIndexFile() {
        final Path indexFile = dir.resolve(StoreFiles.INDEX);
        try {
            if (Files.exists(indexFile)) {
                fileLayer.force(indexFile);
            }
        } catch (final IOException e) {
            throw new StoreIOException("cannot force index " + indexFile + ": " + e, e);
        }
    }

    private void abandonAfterFailedOpen() {
        state = State.CLOSED;
        if (journal != null) {
            journal.close();
        }
        if (index != null) {
            index.close();
        }
        columns.close();
        lock.abandon();
    }

    private static RuntimeException collect(final RuntimeException failure, final Runnable action) {
        try {
            action.run();
            return failure;
        } catch (final RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
            return failure;
        }
    }

    private static void sweepStaleInMemoryStores(final Path root) {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (final Path entry : entries) {
                final String name = entry.getFileName().toString();
                final int dash = name.indexOf('-');
                if (dash <= 0) {
                    continue;
                }
                try {
                    final long pid = Long.parseLong(name.substring(0, dash));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        StoreFiles.deleteTree(entry);
                    }
                } catch (final NumberFormatException | ActCacheException e) {
                    LOG.debug("not sweeping {}: {}", entry, e.toString());
                }
            }
        } catch (final IOException e) {
            LOG.warn("cannot sweep stale in-memory stores in {}: {}", root, e.toString());
        }
    }
}
