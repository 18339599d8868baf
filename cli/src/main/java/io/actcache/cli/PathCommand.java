package io.actcache.cli;

import io.actcache.codec.Codec;
import io.actcache.store.ActivationStore;
import io.actcache.store.ColumnDescriptor;
import io.actcache.store.ColumnKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code actcache path DIR KEY}: the .npy file numpy can open for a key, or why there is none. */
@Command(name = "path",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Print the .npy file that numpy can open for a key, or say why there is none.",
    description = {
        "",
        "Every DENSE column stored RAW is a valid .npy file holding exactly the key's committed tensor. This "
            + "prints its absolute path, so that numpy.load(path, mmap_mode=\"r\") maps it without a copy (BF16 "
            + "arrives as uint16 bit patterns; view it as torch.bfloat16).",
        "",
        "A LIST column (ragged tensors, such as attention patterns of prompts of different lengths) or a "
            + "compressed column has no such file: the command fails with exit status 1 and says so; "
            + "'actcache export DIR OUT --format npy --keys KEY' writes .npy files for any column.",
        "",
        "Read-only: it runs beside a writer. A file path stays valid until the key is replaced or removed and "
            + "the writer checkpoints.",
        ""},
    footerHeading = "%nExamples:%n",
    footer = {
        "  actcache path runs/gpt2 blocks.0.hook_resid_post",
        "  python3 -c \"import numpy, sys; print(numpy.load(sys.argv[1], mmap_mode='r').shape)\" \\",
        "      \"$(actcache path runs/gpt2 blocks.0.hook_resid_post)\""})
final class PathCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "DIR", description = "The store directory.")
    Path dir;

    @Parameters(index = "1", paramLabel = "KEY", description = "The key.")
    String key;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        final Path file;
        try (ActivationStore store = ActivationStore.openReadOnly(dir.toAbsolutePath().normalize())) {
            final ColumnDescriptor column = store.describe(key);
            if (column.kind() == ColumnKind.LIST) {
                throw new IllegalArgumentException("key '" + key + "' is a LIST column (" + column.dtype()
                    + " tensors of differing shapes), which no single .npy file holds; export it with "
                    + "'actcache export " + dir + " OUT --format npy --keys <regex>'");
            }
            if (column.codec() != Codec.RAW) {
                throw new IllegalArgumentException("key '" + key + "' is stored compressed (" + column.codec()
                    + "), so numpy cannot map its file; export it with 'actcache export " + dir
                    + " OUT --format npy --keys <regex>'");
            }
            file = store.columnFile(key);
        }
        final PrintWriter out = spec.commandLine().getOut();
        out.println(file);
        out.flush();
        return ExitCodes.OK;
    }
}
