package io.actcache.cli;

import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** {@code actcache ls DIR [PATTERN]}: the keys of a store, optionally those matching a pattern. */
@Command(name = "ls",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "List the keys of a store, optionally those matching a pattern.",
    description = {
        "",
        "Opens the store at DIR read-only (it runs beside a writer) and prints its keys, one per line, sorted.",
        "",
        "PATTERN is a glob over the whole key: * matches any run of characters (dots included), ? one "
            + "character, anything else itself; 'blocks.*.hook_resid_post' selects that hook of every layer. "
            + "With --regex, PATTERN is a Java regular expression that must match the whole key.",
        "",
        "With -l, each line also shows the key's kind, dtype, shape and bytes; with --json, one JSON array of "
            + "objects {\"key\", \"kind\", \"dtype\", \"shape\", \"bytes\"}.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache ls runs/gpt2",
        "  actcache ls -l runs/gpt2 'blocks.*.attn.hook_pattern'",
        "  actcache ls runs/gpt2 --regex 'resid_out_(1[0-9]|[5-9])'"})
final class LsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATTERN",
        description = "A glob (or with --regex a regular expression) the whole key must match.")
    String pattern;

    @Option(names = "--regex", description = "PATTERN is a regular expression, not a glob.")
    boolean regex;

    @Option(names = "-l", description = "Long listing: kind, dtype, shape and bytes of each key.")
    boolean longListing;

    @Option(names = "--json", description = "Print one JSON array instead of lines.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        final Pattern selected = pattern == null ? null : KeyPatterns.compile(pattern, regex);
        final Map<String, ColumnDescriptor> columns;
        try (ActivationStore store = ActivationStore.openReadOnly(dir.toAbsolutePath().normalize())) {
            columns = store.descriptors();
        }
        columns.keySet().removeIf(key -> selected != null && !selected.matcher(key).matches());
        final PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonOutput.print(out, gen -> {
                gen.writeStartArray();
                for (final Map.Entry<String, ColumnDescriptor> entry : columns.entrySet()) {
                    final ColumnDescriptor column = entry.getValue();
                    gen.writeStartObject();
                    gen.writeStringField("key", entry.getKey());
                    gen.writeStringField("kind", column.kind().name());
                    gen.writeStringField("dtype", column.dtype().name());
                    JsonOutput.shapeField(gen, "shape", column.shape());
                    gen.writeNumberField("bytes", column.byteSize());
                    gen.writeEndObject();
                }
                gen.writeEndArray();
            });
        } else {
            final StringBuilder text = new StringBuilder(64 * (columns.size() + 1));
            for (final Map.Entry<String, ColumnDescriptor> entry : columns.entrySet()) {
                text.append(entry.getKey());
                if (longListing) {
                    final ColumnDescriptor column = entry.getValue();
                    text.append('\t').append(column.kind()).append('\t').append(column.dtype()).append('\t')
                        .append(column.shape()).append('\t').append(column.byteSize());
                }
                text.append('\n');
            }
            out.print(text);
        }
        out.flush();
        return ExitCodes.OK;
    }
}
