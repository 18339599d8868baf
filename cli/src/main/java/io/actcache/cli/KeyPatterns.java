package io.actcache.cli;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Key selection on the command line: globs ({@code blocks.*.hook_resid_post}) or regular expressions. */
final class KeyPatterns {
    private KeyPatterns() {
    }

    /**
     * @param text  the pattern as typed.
     * @param regex true for a Java regular expression, false for a glob.
     * @return a pattern to match whole keys with {@code matcher(key).matches()}.
     * @throws IllegalArgumentException naming the pattern when it is not a valid regular expression.
     */
    static Pattern compile(final String text, final boolean regex) {
        if (!regex) {
            return Pattern.compile(globToRegex(text));
        }
        try {
            return Pattern.compile(text);
        } catch (final PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regular expression '" + text + "': "
                + e.getDescription() + " near index " + e.getIndex(), e);
        }
    }

    private static String globToRegex(final String glob) {
        final StringBuilder out = new StringBuilder(glob.length() + 8);
        int literalStart = 0;
        for (int i = 0; i < glob.length(); i++) {
            final char c = glob.charAt(i);
            if (c == '*' || c == '?') {
                if (i > literalStart) {
                    out.append(Pattern.quote(glob.substring(literalStart, i)));
                }
                out.append(c == '*' ? ".*" : ".");
                literalStart = i + 1;
            }
        }
        if (literalStart < glob.length()) {
            out.append(Pattern.quote(glob.substring(literalStart)));
        }
        return out.toString();
    }
}
