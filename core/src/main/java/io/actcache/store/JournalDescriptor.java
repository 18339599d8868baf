package io.actcache.store;

import org.agrona.SemanticVersion;

/**
 * Layout of the {@code journal} file: a redo log of commits since the last checkpoint. All fields are
 * little-endian. One record is one commit; the record is the commit point.
 *
 * <p>File header, 32 bytes:
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     File Magic 'ACJL'                         |
 *  +---------------------------------------------------------------+
 *  |                 Format Version (SemanticVersion)              |
 *  +---------------------------------------------------------------+
 *  |                   Base Epoch (int64): the manifest's          |
 *  |                   epoch when this generation started          |
 *  +---------------------------------------------------------------+
 *  |                     Reserved (12 bytes, 0)                   ...
 *  +---------------------------------------------------------------+
 *  |                  Header CRC32C of bytes 0..27                 |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Record, 32-byte header then payload then a 4-byte trailer:
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                    Record Magic 'ACJR'                        |
 *  +---------------------------------------------------------------+
 *  |                    Payload Length (int32)                     |
 *  +---------------------------------------------------------------+
 *  |                    Epoch (int64), base + 1, + 2, ...          |
 *  +---------------------------------------------------------------+
 *  |                    Next Column Id (int64)                     |
 *  +---------------------------------------------------------------+
 *  |                    Payload CRC32C                             |
 *  +---------------------------------------------------------------+
 *  |                    Header CRC32C of bytes 0..27               |
 *  +---------------------------------------------------------------+
 *  |                    Payload                                   ...
 *  +---------------------------------------------------------------+
 *  |                    Trailer: ~Record Magic                     |
 *  +---------------------------------------------------------------+
 * </pre>
 * Payload: entry count (int32), then per entry: type (u8: 1 = set descriptor, 2 = remove), key length
 * (u16), key (UTF-8), and for type 1 the {@link ColumnDescriptor} binary form; then metadata change count
 * (int32), and per change: type (u8: 3 = set, 4 = remove), name length (u16), name (UTF-8), and for type 3
 * value length (int32) and value (UTF-8).
 */
public final class JournalDescriptor {
    /** 'ACJL' little-endian. */
    public static final int FILE_MAGIC = 0x4C4A4341;
    /** Journal format version. */
    public static final int VERSION = SemanticVersion.compose(1, 0, 0);
    /** Offset of the file magic. */
    public static final int FILE_MAGIC_OFFSET = 0;
    /** Offset of the version. */
    public static final int FILE_VERSION_OFFSET = FILE_MAGIC_OFFSET + Integer.BYTES;
    /** Offset of the base epoch. */
    public static final int BASE_EPOCH_OFFSET = FILE_VERSION_OFFSET + Integer.BYTES;
    /** Offset of the reserved bytes. */
    public static final int FILE_RESERVED_OFFSET = BASE_EPOCH_OFFSET + Long.BYTES;
    /** Offset of the file header CRC. */
    public static final int FILE_HEADER_CRC_OFFSET = FILE_RESERVED_OFFSET + 12;
    /** Length of the file header; the first record starts here. */
    public static final int FILE_HEADER_LENGTH = FILE_HEADER_CRC_OFFSET + Integer.BYTES;

    /** 'ACJR' little-endian. */
    public static final int RECORD_MAGIC = 0x524A4341;
    /** Trailer written after a record's payload. */
    public static final int RECORD_TRAILER = ~RECORD_MAGIC;
    /** Offset of the record magic. */
    public static final int RECORD_MAGIC_OFFSET = 0;
    /** Offset of the payload length. */
    public static final int PAYLOAD_LENGTH_OFFSET = RECORD_MAGIC_OFFSET + Integer.BYTES;
    /** Offset of the epoch. */
    public static final int EPOCH_OFFSET = PAYLOAD_LENGTH_OFFSET + Integer.BYTES;
    /** Offset of the next column id. */
    public static final int NEXT_COLUMN_ID_OFFSET = EPOCH_OFFSET + Long.BYTES;
    /** Offset of the payload CRC. */
    public static final int PAYLOAD_CRC_OFFSET = NEXT_COLUMN_ID_OFFSET + Long.BYTES;
    /** Offset of the record header CRC. */
    public static final int RECORD_HEADER_CRC_OFFSET = PAYLOAD_CRC_OFFSET + Integer.BYTES;
    /** Length of a record header. */
    public static final int RECORD_HEADER_LENGTH = RECORD_HEADER_CRC_OFFSET + Integer.BYTES;
    /** Length of a record trailer. */
    public static final int RECORD_TRAILER_LENGTH = Integer.BYTES;
    /** Largest payload accepted; bounds a reader's allocation on a damaged length. */
    public static final int MAX_PAYLOAD_LENGTH = 256 << 20;
    /** The longest journal a reader reads (it reads the file into one array); the writer never grows one past it. */
    public static final long MAX_JOURNAL_LENGTH = Integer.MAX_VALUE - 8;

    /** Entry type: set a key's descriptor. */
    public static final byte ENTRY_SET = 1;
    /** Entry type: remove a key. */
    public static final byte ENTRY_REMOVE = 2;
    /** Metadata change type: set a name's value. */
    public static final byte METADATA_SET = 3;
    /** Metadata change type: remove a name. */
    public static final byte METADATA_REMOVE = 4;

    private JournalDescriptor() {
    }
}
