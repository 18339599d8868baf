package io.actcache.interop;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * File names for keys in an NPY export, and keys for the stems of loose NPY files on import.
 *
 * <p>A key is untrusted text (it may hold {@code /}, {@code ..} or anything else), so a name keeps only ASCII
 * letters, digits, {@code _}, {@code -} and {@code .} (not as the first character, so no name is hidden or
 * {@code ..}); every other UTF-8 byte is written {@code %XX}, as in a URL. The encoding is one-to-one, so two
 * keys never share a file, and {@code blocks.0.hook_resid_post} stays {@code blocks.0.hook_resid_post}. A name
 * longer than {@value #MAX_NAME} characters is cut and ends with {@code ~} and 16 hex digits of the key's SHA-256
 * ({@code ~} never appears otherwise); the export's index maps such names back to their keys.
 */
final class ExportFileNames {
    /** Longest encoded stem; file systems allow 255 bytes, and suffixes such as {@code .list} need room. */
    static final int MAX_NAME = 200;
    private static final int CUT = MAX_NAME - 17;

    private ExportFileNames() {
    }

    /**
     * @param key a key.
     * @return a safe file name stem for it.
     */
    static String encode(final String key) {
        final StringBuilder name = new StringBuilder(key.length() + 16);
        for (final byte b : key.getBytes(StandardCharsets.UTF_8)) {
            final char c = (char) (b & 0xFF);
            if (isPlain(c) && !(c == '.' && name.length() == 0)) {
                name.append(c);
            } else {
                name.append('%').append(HexFormat.of().withUpperCase().toHexDigits(b));
            }
        }
        if (name.length() <= MAX_NAME) {
            return name.toString();
        }
        int cut = CUT;
        if (name.charAt(cut - 1) == '%') { // never cut inside a %XX escape
            cut -= 1;
        } else if (name.charAt(cut - 2) == '%') {
            cut -= 2;
        }
        return name.substring(0, cut) + "~" + HexFormat.of().formatHex(sha256(key), 0, 8);
    }

    /**
     * @param stem a file name without its extension.
     * @return the key {@link #encode} made it from, or the stem itself when it is not such an encoding (a file a
     *     user named, such as {@code resid 3}).
     */
    static String decode(final String stem) {
        if (stem.isEmpty() || stem.indexOf('~') >= 0) {
            return stem;
        }
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream(stem.length());
        for (int i = 0; i < stem.length(); i++) {
            final char c = stem.charAt(i);
            if (c == '%' && i + 2 < stem.length() && isHex(stem.charAt(i + 1)) && isHex(stem.charAt(i + 2))) {
                bytes.write(HexFormat.fromHexDigits(stem, i + 1, i + 3));
                i += 2;
            } else if (isPlain(c) && !(c == '.' && i == 0)) {
                bytes.write(c);
            } else {
                return stem;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (final CharacterCodingException e) {
            return stem;
        }
    }

    private static boolean isPlain(final char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
            || c == '.';
    }

    private static boolean isHex(final char c) {
        return c >= '0' && c <= '9' || c >= 'A' && c <= 'F';
    }

    private static byte[] sha256(final String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (final NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
