package io.actcache.cli;

import io.actcache.store.ActivationStore;
import io.actcache.store.Durability;
import io.actcache.store.StoreOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code actcache create DIR [--capacity N] [--durability ...]}: a new, empty store. */
@Command(name = "create",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Create a new, empty store.",
    description = {
        "",
        "Creates the store directory DIR (and missing parents) with an empty manifest, journal and the store's "
            + "creation options in actcache.properties. DIR must not exist or be an empty directory; an existing "
            + "store is never overwritten.",
        "",
        "The options are fixed for the store's life and read back by every later open:",
        "",
        "  --capacity    keys the writer's index is sized for at first; it grows",
        "                by itself when more arrive, so this only saves rebuilds",
        "  --durability  what a commit survives once it returns:",
        "                  FSYNC    power loss (data and journal forced to disk)",
        "                  PROCESS  a killed process, not power loss",
        "                  NONE     nothing: a scratch cache; after an unclean",
        "                           shutdown it refuses to reopen",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache create runs/gpt2",
        "  actcache create /scratch/sweep --durability PROCESS --capacity 100000"})
final class CreateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The new store directory.")
    Path dir;

    @Option(names = "--capacity", paramLabel = "N", defaultValue = "10000",
        description = "Keys the index is sized for at first (default: ${DEFAULT-VALUE}).")
    long capacity;

    @Option(names = "--durability", paramLabel = "LEVEL", defaultValue = "FSYNC",
        description = "FSYNC, PROCESS or NONE (default: ${DEFAULT-VALUE}).")
    Durability durability;

    @Option(names = "--json", description = "Print one JSON object describing the new store.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (capacity < 1) {
            throw new IllegalArgumentException("--capacity must be at least 1, not " + capacity);
        }
        final Path store = dir.toAbsolutePath().normalize();
        final StoreOptions options = StoreOptions.builder().expectedKeys(capacity).durability(durability).build();
        try (ActivationStore created = ActivationStore.create(store, options)) {
            created.checkpoint();
        }
        final PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonOutput.print(out, gen -> {
                gen.writeStartObject();
                gen.writeStringField("store", store.toString());
                gen.writeNumberField("capacity", capacity);
                gen.writeStringField("durability", durability.name());
                gen.writeEndObject();
            });
        } else {
            out.println("created " + store + " (durability " + durability + ", capacity " + capacity + " keys)");
        }
        out.flush();
        return ExitCodes.OK;
    }
}
