package io.actcache.testing;

import io.actcache.tensor.DType;
import io.actcache.tensor.TensorView;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Test helper: real files with hand-made bytes (well-formed or broken on purpose), the fixtures written by the real
 * numpy and safetensors libraries, and digests of view contents.
 */
public final class CraftedFiles {
    private CraftedFiles() {
    }

    /** @return the fixtures directory (the {@code actcache.fixtures} property the build sets). */
    public static Path fixtures() {
        final String dir = System.getProperty("actcache.fixtures");
        if (dir == null) {
            throw new AssertionError("system property actcache.fixtures is not set: run the tests with Maven");
        }
        return Path.of(dir);
    }

    /**
     * Writes a safetensors file whose header length field is the JSON's byte length (no padding).
     *
     * @param file destination.
     * @param json the header text.
     * @param data the byte buffer.
     * @return the file.
     */
    public static Path safetensors(final Path file, final String json, final byte[] data) throws IOException {
        final byte[] text = json.getBytes(StandardCharsets.UTF_8);
        return safetensors(file, text.length, text, data);
    }

    /**
     * @param file           destination.
     * @param declaredLength the header length field, whatever the text's length.
     * @param json           the header bytes.
     * @param data           the byte buffer.
     * @return the file.
     */
    public static Path safetensors(final Path file, final long declaredLength, final byte[] json, final byte[] data)
        throws IOException {
        final ByteBuffer bytes = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(declaredLength).put(json).put(data);
        Files.write(file, bytes.array());
        return file;
    }

    /**
     * @param count bytes.
     * @param seed  seed.
     * @return deterministic pseudo-random bytes.
     */
    public static byte[] bytes(final int count, final long seed) {
        final byte[] bytes = new byte[count];
        new java.util.SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /**
     * @param view a view.
     * @return the SHA-256 of its bytes, lowercase hex.
     */
    public static String sha256(final TensorView view) {
        final MessageDigest digest = sha256();
        view.visitBytes(0, view.byteSize(), digest::update);
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * @param bytes bytes.
     * @return their SHA-256, lowercase hex.
     */
    public static String sha256(final byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    /**
     * @param torchName a dtype as the fixture manifest names it ({@code float32}, {@code bfloat16}, ...).
     * @return the dtype.
     */
    public static DType fromTorchName(final String torchName) {
        switch (torchName) {
            case "float32": return DType.F32;
            case "float16": return DType.F16;
            case "bfloat16": return DType.BF16;
            case "float64": return DType.F64;
            case "int64": return DType.I64;
            case "int32": return DType.I32;
            case "int16": return DType.I16;
            case "int8": return DType.I8;
            case "uint8": return DType.U8;
            case "bool": return DType.BOOL;
            default: throw new AssertionError("unknown fixture dtype " + torchName);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (final NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
