package io.actcache.store;

import io.actcache.AlreadyClosedException;
import io.actcache.CorruptFileException;
import io.actcache.codec.BlockFileDescriptor;
import io.actcache.codec.Codec;
import io.actcache.tensor.DType;
import io.actcache.tensor.Shape;
import io.actcache.tensor.Tensor;
import io.actcache.tensor.TensorView;
import io.actcache.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LZ4 and SHUFFLE_LZ4 columns on real files: values round-trip through appends that continue partial blocks,
 * reopen and reader processes' views; row ranges decompress only their blocks into the bounded pool; compaction
 * changes codecs; and every kind of damage (a flipped byte in a block, a truncated block index, an index whose raw
 * length disagrees with the block, an unknown codec id) is a {@link CorruptFileException} naming key, file and block.
 */
class CompressedColumnTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path tmp;

    private StoreOptions options(final Codec codec) {
        return StoreOptions.builder().compressionBlockSize(BLOCK).maxDecompressedBlocks(4)
            .codecPolicy(CodecPolicy.builder().prefix("act", codec).build()).build();
    }

    /** A tensor with runs of zeros and repeated exponents, so compression has something to find. */
    private static Tensor compressible(final DType dtype, final long rows, final long seed) {
        final Tensor random = TestData.random(dtype, Shape.of(rows, 100), seed);
        final Tensor tensor = Tensor.allocate(dtype, Shape.of(rows, 100));
        random.view().copyTo(tensor, 0);
        for (long i = 0; i < tensor.view().byteSize(); i++) {
            if (i % 5 < 2) {
                tensor.buffer().put((int) i, (byte) 0);
            }
        }
        return tensor;
    }

    @ParameterizedTest
    @EnumSource(value = Codec.class, names = {"LZ4", "SHUFFLE_LZ4"})
    void shouldRoundTripAppendsThatContinuePartialBlocksAcrossReopen(final Codec codec) {
        final Path dir = tmp.resolve("s");
        final Tensor a = compressible(DType.F32, 7, 1);
        final Tensor b = compressible(DType.F32, 33, 2);
        final Tensor c = compressible(DType.F32, 1, 3);
        try (ActivationStore store = ActivationStore.create(dir, options(codec))) {
            store.append("act", a);
            store.append("act", b);
            store.append("raw", a);
            assertEquals(codec, store.describe("act").codec());
            assertEquals(Codec.RAW, store.describe("raw").codec());
            assertTrue(store.describe("act").blockEntries() > 0);
        }
        try (ActivationStore store = ActivationStore.open(dir, options(codec))) {
            store.append("act", c);
            final TensorView view = store.get("act");
            assertEquals(Shape.of(41, 100), view.shape());
            assertTrue(view.rows(0, 7).contentEquals(a.view()));
            assertTrue(view.rows(7, 40).contentEquals(b.view()));
            assertTrue(view.rows(40, 41).contentEquals(c.view()));
            assertEquals(41 * 400, store.verify("act"));
            assertTrue(Files.exists(dir.resolve("columns/" + store.describe("act").columnId() + ".blk")));
        }
        try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
            assertTrue(reader.get("act").rows(7, 40).contentEquals(b.view()));
            reader.verify();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Codec.class, names = {"LZ4", "SHUFFLE_LZ4"})
    void shouldLeaveAColumnAsItWasWhenAnAppendAddsNoRows(final Codec codec) {
        // An append of no rows used to write the committed partial block again unchanged; its entry did not grow the
        // raw end, so every later load of the block index refused the column as corrupt.
        final Path dir = tmp.resolve("s");
        final Tensor a = compressible(DType.F32, 7, 1);
        final Tensor b = compressible(DType.F32, 33, 2);
        final Tensor none = Tensor.allocate(DType.F32, Shape.of(0, 100));
        final Tensor twoBlocks = TestData.random(DType.F32, Shape.of(2, BLOCK / 4), 3); // ends on a block boundary
        final Tensor oneRow = TestData.random(DType.F32, Shape.of(1, BLOCK / 4), 4);
        try (ActivationStore store = ActivationStore.create(dir, options(codec))) {
            store.append("act", a); // 2800 bytes: one partial block
            final ColumnDescriptor partial = store.describe("act");
            store.append("act", none);
            assertEquals(partial, store.describe("act"));
            store.append("act_empty", none); // created empty, then appended to with nothing and with rows
            store.append("act_empty", none);
            assertEquals(0, store.describe("act_empty").blockEntries());
            store.append("act_empty", a);
            store.append("act_full", twoBlocks);
            final ColumnDescriptor full = store.describe("act_full");
            store.append("act_full", Tensor.allocate(DType.F32, Shape.of(0, BLOCK / 4)));
            assertEquals(full, store.describe("act_full"));
            store.append("act", b);
            assertTrue(store.get("act").rows(7, 40).contentEquals(b.view()));
        }
        try (ActivationStore store = ActivationStore.open(dir, options(codec))) {
            store.append("act", none);
            assertTrue(store.get("act").rows(0, 7).contentEquals(a.view()));
            assertTrue(store.get("act").rows(7, 40).contentEquals(b.view()));
            assertTrue(store.get("act_empty").contentEquals(a.view()));
            store.append("act_full", oneRow);
            assertTrue(store.get("act_full").rows(0, 2).contentEquals(twoBlocks.view()));
            assertTrue(store.get("act_full").rows(2, 3).contentEquals(oneRow.view()));
            assertEquals(40 * 400 + 7 * 400 + 3 * BLOCK, store.verify());
        }
    }

    @Test
    void shouldReadBlocksThatSpanSeveralMappedChunks() {
        // 256 KiB blocks of incompressible floats, read through 64 KiB mappings: each block spans five chunks.
        final StoreOptions options = StoreOptions.builder().compressionBlockSize(256 << 10).chunkSize(64 << 10)
            .maxDecompressedBlocks(2).codecPolicy(CodecPolicy.builder().prefix("act", Codec.LZ4).build()).build();
        final Tensor data = TestData.random(DType.F32, Shape.of(1024, 1024), 5); // 4 MiB: 16 blocks
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options)) {
            store.append("act", data);
            assertTrue(store.get("act").contentEquals(data.view()));
            assertTrue(store.get("act").rows(100, 900).contentEquals(data.view().rows(100, 900)));
            final Tensor copy = Tensor.allocate(DType.F32, Shape.of(1024, 1024));
            store.get("act").copyTo(copy, 0);
            assertTrue(copy.view().contentEquals(data.view()));
            assertEquals(data.view().byteSize(), store.verify("act"));
        }
    }

    @Test
    void shouldHoldNoDirectBuffersPerColumnItHasRead() {
        // Each column read used to keep a block-sized copy buffer and, for SHUFFLE_LZ4, a block-sized shuffle buffer
        // until the store closed: reading many keys of large blocks ran out of direct memory.
        final int keys = 200;
        final List<Tensor> values = new ArrayList<>();
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options(Codec.SHUFFLE_LZ4))) {
            try (ActivationStore.Batch batch = store.batch()) {
                for (int i = 0; i < keys; i++) {
                    values.add(compressible(DType.F32, 3, i));
                    batch.put("act" + i, values.get(i));
                }
                batch.commit();
            }
            assertTrue(store.get("act0").contentEquals(values.get(0).view()));
            final long before = directBytes();
            for (int i = 1; i < keys; i++) {
                assertTrue(store.get("act" + i).contentEquals(values.get(i).view()), "act" + i);
            }
            final long grown = directBytes() - before;
            assertTrue(grown < 16 * BLOCK, "reading " + (keys - 1) + " more keys grew direct memory by " + grown
                + " bytes");
        }
    }

    private static long directBytes() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElseThrow().getMemoryUsed();
    }

    @Test
    void shouldCompareViewsWhoseBlocksEvictEachOtherFromThePool() {
        // With two pooled blocks, fetching the other view's block refilled the buffer this view's chunk still
        // pointed at (the eldest: using a view's cached chunk does not refresh it), so different columns compared
        // equal.
        final StoreOptions options = StoreOptions.builder().compressionBlockSize(BLOCK).maxDecompressedBlocks(2)
            .codecPolicy(CodecPolicy.builder().prefix("act", Codec.LZ4).build()).build();
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options)) {
            store.put("act_a", compressible(DType.F32, 2, 1));
            store.put("act_b", compressible(DType.F32, 2, 2));
            store.put("act_c", compressible(DType.F32, 2, 3));
            final TensorView a = store.get("act_a");
            a.getFloat(0);
            store.get("act_c").getFloat(0);
            assertFalse(a.contentEquals(store.get("act_b")));
            assertTrue(a.contentEquals(compressible(DType.F32, 2, 1).view()));
        }
    }

    @Test
    void shouldAppendWithTheFewestOpenFilesAllowedAndRefuseFewer() {
        // An append holds the data file and the block index; with one open file allowed, fetching the second
        // closed the first and every compressed append failed with ClosedChannelException.
        final IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
            () -> StoreOptions.builder().maxOpenFiles(1).build());
        assertTrue(one.getMessage().contains("maxOpenFiles"), one.getMessage());
        final StoreOptions options = options(Codec.LZ4).toBuilder().maxOpenFiles(StoreOptions.MIN_OPEN_FILES).build();
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options)) {
            store.append("act_a", compressible(DType.F32, 7, 1));
            store.append("act_b", compressible(DType.F32, 7, 2));
            store.append("act_a", compressible(DType.F32, 5, 3));
            assertTrue(store.get("act_a").rows(7, 12).contentEquals(compressible(DType.F32, 5, 3).view()));
            store.verify();
        }
    }

    @Test
    void shouldDecompressOnlyTheBlocksOfARowRangeIntoTheBoundedPool() {
        final Tensor data = compressible(DType.F32, 1024, 4); // 400 KiB: 100 blocks of 4 KiB
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options(Codec.SHUFFLE_LZ4))) {
            store.append("act", data);
            final BlockPool pool = store.columnFilesForTest().blockColumns().pool();
            final long before = pool.decompressions();
            // Rows 500..510 are bytes [200000, 204000): blocks 48 and 49.
            assertTrue(store.get("act").rows(500, 510).contentEquals(data.view().rows(500, 510)));
            assertEquals(2, pool.decompressions() - before);
            assertTrue(store.get("act").contentEquals(data.view()));
            assertEquals(4L * BLOCK, pool.pooledBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Codec.class, names = {"LZ4", "SHUFFLE_LZ4"})
    void shouldCopyWholeBlocksOfARangeStraightIntoTheDestinationAndPartialOnesThroughThePool(final Codec codec) {
        final Tensor data = compressible(DType.F32, 1024, 11); // 400 KiB: 100 blocks of 4 KiB
        final TensorView afterClose;
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options(codec))) {
            store.append("act", data);
            final BlockPool pool = store.columnFilesForTest().blockColumns().pool();
            // Rows 500..530 are bytes [200000, 212000): the end of block 48, blocks 49 and 50, the start of 51.
            final TensorView range = store.get("act").rows(500, 530);
            final ByteBuffer expected = data.buffer().slice(200_000, 12_000);
            final ByteBuffer direct = ByteBuffer.allocateDirect(12_000);
            long before = pool.decompressions();
            range.copyTo(direct);
            assertEquals(4, pool.decompressions() - before);
            assertEquals(expected, direct.flip());

            // Blocks 49 and 50 went straight into the destination: element reads decompress them into the pool.
            before = pool.decompressions();
            assertTrue(range.contentEquals(data.view().rows(500, 530)));
            assertEquals(2, pool.decompressions() - before);

            // Now the pool holds all four: a copy into a heap buffer at an offset decompresses nothing.
            final ByteBuffer heap = ByteBuffer.allocate(12_007).position(7);
            before = pool.decompressions();
            range.copyTo(heap);
            assertEquals(0, pool.decompressions() - before);
            assertEquals(expected, heap.position(7));

            // Decoding straight into a heap buffer at an offset: rows 700..730, bytes [280000, 292000), blocks 68-71.
            final ByteBuffer heapDecoded = ByteBuffer.allocate(12_005).position(5);
            before = pool.decompressions();
            store.get("act").rows(700, 730).copyTo(heapDecoded);
            assertEquals(4, pool.decompressions() - before);
            assertEquals(data.buffer().slice(280_000, 12_000), heapDecoded.position(5));

            // A whole-column copy: 100 blocks, every one whole.
            final ByteBuffer all = ByteBuffer.allocateDirect((int) data.view().byteSize());
            store.get("act").copyTo(all);
            assertEquals(data.buffer().duplicate().clear(), all.flip());
            afterClose = store.get("act").rows(800, 900);
        }
        final AlreadyClosedException closed = assertThrows(AlreadyClosedException.class,
            () -> afterClose.copyTo(ByteBuffer.allocateDirect(40_000)));
        assertTrue(closed.getMessage().contains("'act'"), closed.getMessage());
    }

    @Test
    void shouldReadStoresWhosePropertiesDoNotRecordTheBlockSizeWithTheBlockSizeTheyWereWritten() throws IOException {
        final Path dir = tmp.resolve("s");
        final Tensor first = compressible(DType.F32, 1000, 13); // 400 KB: 7 blocks of 64 KiB
        final Tensor second = compressible(DType.F32, 50, 14);
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.builder()
            .compressionBlockSize(BlockFileDescriptor.UNRECORDED_BLOCK_SIZE)
            .codecPolicy(CodecPolicy.builder().prefix("act", Codec.LZ4).build()).build())) {
            store.append("act", first);
        }
        final Path properties = dir.resolve("actcache.properties");
        final java.util.Properties values = new java.util.Properties();
        try (var in = Files.newInputStream(properties)) {
            values.load(in);
        }
        assertEquals(Integer.toString(BlockFileDescriptor.UNRECORDED_BLOCK_SIZE),
            values.remove("compression.block.size"));
        try (var out = Files.newOutputStream(properties)) {
            values.store(out, null);
        }
        assertTrue(BlockFileDescriptor.DEFAULT_BLOCK_SIZE != BlockFileDescriptor.UNRECORDED_BLOCK_SIZE);
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertTrue(store.get("act").contentEquals(first.view()));
            store.append("act", second);
            assertTrue(store.get("act").rows(1000, 1050).contentEquals(second.view()));
            assertEquals(1050 * 400, store.verify("act"));
        }
    }

    @Test
    void shouldRefuseAReadOnlyDestinationBeforeDecodingIntoIt() {
        final Tensor data = compressible(DType.F32, 100, 12);
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options(Codec.LZ4))) {
            store.append("act", data);
            final ByteBuffer readOnly = ByteBuffer.allocateDirect(40_000).asReadOnlyBuffer();
            assertThrows(java.nio.ReadOnlyBufferException.class, () -> store.get("act").copyTo(readOnly));
            assertEquals(0, readOnly.position());
            assertTrue(store.get("act").contentEquals(data.view()));
        }
    }

    @Test
    void shouldLetAReaderFollowAppendsThatRewriteItsLastBlock() {
        final Path dir = tmp.resolve("s");
        final Tensor[] pieces = new Tensor[12];
        try (ActivationStore writer = ActivationStore.create(dir, options(Codec.SHUFFLE_LZ4))) {
            pieces[0] = compressible(DType.F32, 3, 100);
            writer.append("act", pieces[0]);
            try (ActivationStore reader = ActivationStore.openReadOnly(dir)) {
                TensorView before = reader.get("act");
                for (int i = 1; i < pieces.length; i++) {
                    pieces[i] = compressible(DType.F32, 1 + i % 4, 100 + i);
                    writer.append("act", pieces[i]);
                    assertTrue(reader.refresh());
                    final TensorView now = reader.get("act");
                    long row = 0;
                    for (int p = 0; p <= i; p++) {
                        final long rows = pieces[p].view().shape().dim(0);
                        assertTrue(now.rows(row, row + rows).contentEquals(pieces[p].view()), "piece " + p);
                        row += rows;
                    }
                    // A view taken before keeps its own rows, though the block under them was rewritten.
                    assertTrue(before.rows(0, 3).contentEquals(pieces[0].view()));
                    before = now;
                }
                reader.verify();
            }
        }
    }

    @Test
    void shouldChangeCodecsByCompactionAndBack() throws IOException {
        final Tensor data = compressible(DType.BF16, 300, 5);
        final Path dir = tmp.resolve("s");
        try (ActivationStore store = ActivationStore.create(dir, StoreOptions.builder().compressionBlockSize(BLOCK)
            .build())) {
            store.append("act_0", data);
            store.append("act_1", data);
            store.put("scalar", Tensor.allocate(DType.F32, Shape.of()));
            final CompactionReport report = store.compact(CompactOptions.builder().rewrite(Pattern.compile("act_.*"))
                .codec(Codec.SHUFFLE_LZ4).build());
            assertEquals(2, report.columnsRewritten());
            assertEquals(Codec.SHUFFLE_LZ4, store.describe("act_0").codec());
            assertEquals(Codec.RAW, store.describe("scalar").codec());
            assertTrue(store.get("act_1").contentEquals(data.view()));
            assertTrue(store.bytesOnDisk() > 0);
        }
        try (ActivationStore store = ActivationStore.open(dir)) {
            assertTrue(store.get("act_0").contentEquals(data.view()));
            store.compact(CompactOptions.builder().codec(Codec.RAW).build());
            assertEquals(Codec.RAW, store.describe("act_0").codec());
            assertTrue(store.get("act_0").contentEquals(data.view()));
            try (var files = Files.list(dir.resolve("columns"))) {
                assertFalse(files.anyMatch(f -> f.toString().endsWith(".blk") || f.toString().endsWith(".bix")));
            }
        }
    }

    @Test
    void shouldExportImportAndMergeCompressedColumnsValueForValue() throws IOException {
        final Tensor first = compressible(DType.F16, 90, 11);
        final Tensor second = compressible(DType.F16, 50, 12);
        final Path out = tmp.resolve("export");
        try (ActivationStore store = ActivationStore.create(tmp.resolve("s"), options(Codec.SHUFFLE_LZ4))) {
            final io.actcache.cache.ActivationCache cache = io.actcache.cache.ActivationCache.over(store);
            cache.put("act", first);
            // A merge appends through the cache's default concat strategy, into the compressed column.
            cache.cat(single("act", second));
            assertEquals(Codec.SHUFFLE_LZ4, store.describe("act").codec());
            assertEquals(140, store.get("act").shape().dim(0));
            io.actcache.interop.CacheExporter.export(store, out, io.actcache.interop.ExportFormat.SAFETENSORS,
                io.actcache.interop.ExportOptions.defaults());
        }
        try (io.actcache.format.SafetensorsFile file = io.actcache.format.SafetensorsFile.open(
            out.resolve("model.safetensors"))) {
            final TensorView exported = file.tensors().get("act");
            assertTrue(exported.rows(0, 90).contentEquals(first.view()));
            assertTrue(exported.rows(90, 140).contentEquals(second.view()));
        }
        try (ActivationStore target = ActivationStore.create(tmp.resolve("t"), options(Codec.LZ4))) {
            io.actcache.interop.CacheImporter.importFiles(io.actcache.cache.ActivationCache.over(target),
                java.util.List.of(out.resolve("model.safetensors")), io.actcache.interop.ImportOptions.defaults());
            assertEquals(Codec.LZ4, target.describe("act").codec());
            assertTrue(target.get("act").rows(90, 140).contentEquals(second.view()));
            target.verify();
        }
    }

    private static io.actcache.cache.ActivationCache single(final String key, final Tensor value) {
        final io.actcache.cache.ActivationCache cache = io.actcache.cache.ActivationCache.onHeap();
        cache.put(key, value);
        return cache;
    }

    @Test
    void shouldNameKeyFileAndBlockOfAFlippedByte() throws IOException {
        final Tensor data = compressible(DType.F32, 100, 6);
        final Path dir = storeWith(data);
        final Path blk = onlyFile(dir, ".blk");
        flip(blk, BlockFileDescriptor.HEADER_LENGTH + 10);
        try (ActivationStore store = ActivationStore.open(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> store.verify("act"));
            assertTrue(e.getMessage().contains("key 'act'") && e.getMessage().contains(blk.toString())
                && e.getMessage().contains("block 0") && e.getMessage().contains("CRC32C"), e.getMessage());
            final CorruptFileException read = assertThrows(CorruptFileException.class,
                () -> store.get("act").getFloat(0));
            assertTrue(read.getMessage().contains("block 0"), read.getMessage());
            // A bulk copy decodes block 0 straight into its destination, and refuses it just the same.
            final CorruptFileException copy = assertThrows(CorruptFileException.class,
                () -> store.get("act").copyTo(ByteBuffer.allocateDirect(40_000)));
            assertTrue(copy.getMessage().contains("key 'act'") && copy.getMessage().contains("block 0")
                && copy.getMessage().contains("CRC32C"), copy.getMessage());
            assertEquals(100, store.get("act").shape().dim(0));
            // Rows 20..100 (bytes from 8000 on) lie in blocks 1..9: still readable.
            final ByteBuffer rest = ByteBuffer.allocateDirect(32_000);
            store.get("act").rows(20, 100).copyTo(rest);
            assertEquals(data.buffer().slice(8_000, 32_000), rest.flip());
        }
    }

    @Test
    void shouldNameATruncatedBlockIndex() throws IOException {
        final Path dir = storeWith(compressible(DType.F32, 100, 7));
        final Path bix = onlyFile(dir, ".bix");
        try (FileChannel channel = FileChannel.open(bix, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 1);
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> store.get("act"));
            assertTrue(e.getMessage().contains("key 'act'") && e.getMessage().contains(bix.toString())
                && e.getMessage().contains("truncated block index"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseADecompressedLengthThatDisagreesWithTheIndex() throws IOException {
        final Path dir = storeWith(compressible(DType.F32, 100, 8));
        final Path bix = onlyFile(dir, ".bix");
        // Block 1 is full (4096 raw bytes); make its entry say 4000, with a valid entry CRC.
        rewriteEntry(bix, 1, entry -> entry.putInt(BlockFileDescriptor.RAW_LENGTH_OFFSET, 4000));
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains(bix.toString()) && e.getMessage().contains("entry 2"), e.getMessage());
        }
        // The last (partial) block's raw length, off by one, passes the index checks but not the decoder.
        final Path dir2 = storeWith(compressible(DType.F32, 3, 9)); // 1200 bytes: one partial block
        final Path bix2 = onlyFile(dir2, ".bix");
        final Path blk2 = onlyFile(dir2, ".blk");
        rewriteEntry(bix2, 0, entry -> entry.putInt(BlockFileDescriptor.RAW_LENGTH_OFFSET, 1201));
        try (ActivationStore store = ActivationStore.openReadOnly(dir2)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, store::verify);
            assertTrue(e.getMessage().contains(bix2.toString()) || e.getMessage().contains(blk2.toString()),
                e.getMessage());
        }
    }

    @Test
    void shouldNameAnUnknownCodecIdInABlockFileHeader() throws IOException {
        final Path dir = storeWith(compressible(DType.F32, 10, 10));
        final Path blk = onlyFile(dir, ".blk");
        try (FileChannel channel = FileChannel.open(blk, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer header = ByteBuffer.allocate(BlockFileDescriptor.HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            header.put(BlockFileDescriptor.CODEC_OFFSET, (byte) 77);
            final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(header.array(), 0, BlockFileDescriptor.HEADER_CRC_OFFSET);
            header.putInt(BlockFileDescriptor.HEADER_CRC_OFFSET, (int) crc.getValue());
            channel.write(header.flip(), 0);
        }
        try (ActivationStore store = ActivationStore.openReadOnly(dir)) {
            final CorruptFileException e = assertThrows(CorruptFileException.class, () -> store.get("act"));
            assertTrue(e.getMessage().contains("unknown codec id 77") && e.getMessage().contains(blk.toString())
                && e.getMessage().contains("key 'act'"), e.getMessage());
        }
    }

    private Path storeWith(final Tensor data) {
        final Path dir = tmp.resolve("s" + System.nanoTime());
        try (ActivationStore store = ActivationStore.create(dir, options(Codec.LZ4))) {
            store.append("act", data);
        }
        return dir;
    }

    private static Path onlyFile(final Path dir, final String extension) throws IOException {
        try (var files = Files.list(dir.resolve("columns"))) {
            return files.filter(f -> f.toString().endsWith(extension)).findFirst().orElseThrow();
        }
    }

    private static void flip(final Path file, final long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x40));
            channel.write(one.clear(), offset);
        }
    }

    private static void rewriteEntry(final Path bix, final long entry,
        final java.util.function.Consumer<ByteBuffer> change) throws IOException {
        try (FileChannel channel = FileChannel.open(bix, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            final ByteBuffer bytes = ByteBuffer.allocate(BlockFileDescriptor.ENTRY_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(bytes, BlockFileDescriptor.entryOffset(entry));
            change.accept(bytes);
            final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes.array(), 0, BlockFileDescriptor.ENTRY_CRC_OFFSET);
            bytes.putInt(BlockFileDescriptor.ENTRY_CRC_OFFSET, (int) crc.getValue());
            channel.write(bytes.clear(), BlockFileDescriptor.entryOffset(entry));
        }
    }
}
