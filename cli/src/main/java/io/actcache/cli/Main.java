package io.actcache.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@code actcache} command: the entry point of {@code bin/actcache} and of the shaded jar.
 *
 * <p>Exit codes are part of the interface (see {@link ExitCodes}): 0 ok, 1 bad input or usage, 2 corruption found,
 * 3 I/O failure. Every failure prints one line, {@code actcache: <message>}, first on stderr; the stack trace
 * follows only with {@code --verbose} or {@code ACTCACHE_DEBUG=1}.
 *
 * <p>A subcommand is a {@code Callable<Integer>} class registered in {@code SUBCOMMANDS} below; it writes to
 * {@code spec.commandLine().getOut()} so that tests capture its output, and reports failures by throwing.
 */
@Command(name = "actcache",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Off-heap, memory-mapped activation caches indexed by key.",
    description = {
        "",
        "actcache keeps neural-network activations (resid_out_3, blocks.5.attn.hook_pattern, input_ids, ...) as "
            + "raw little-endian tensors in memory-mapped files, one column per key, appended batch by batch. A "
            + "store is a directory; every dense column is a valid .npy file that numpy opens through the store's "
            + "manifest.json.",
        "",
        "Run 'actcache demo' to see a GPT-2-small-sized run written, reopened and verified, and "
            + "'actcache COMMAND --help' for the options of a command.",
        "",
        "bin/actcache also runs the performance suite from the bench module: 'actcache bench --help'.",
        ""},
    footerHeading = "%nExit status:%n",
    footer = {
        "  0  success",
        "  1  bad input or usage (no such store, bad option, ...)",
        "  2  corruption found in a store",
        "  3  I/O error",
        "",
        "Environment:",
        "  ACTCACHE_DEBUG=1     print stack traces of failures, as --verbose does",
        "  ACTCACHE_JAVA_OPTS   extra JVM options for bin/actcache (for example -Xmx4g)"})
public final class Main implements Runnable {
    /**
     * The subcommands by name, in the order the usage lists them. Registered programmatically so that a call
     * builds only the command it runs: picocli's reflective model of each command costs start-up time, which
     * {@code info} in a loop pays on every call.
     */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = new LinkedHashMap<>();

    static {
        SUBCOMMANDS.put("create", CreateCommand::new);
        SUBCOMMANDS.put("info", InfoCommand::new);
        SUBCOMMANDS.put("ls", LsCommand::new);
        SUBCOMMANDS.put("path", PathCommand::new);
        SUBCOMMANDS.put("import", ImportCommand::new);
        SUBCOMMANDS.put("export", ExportCommand::new);
        SUBCOMMANDS.put("merge", MergeCommand::new);
        SUBCOMMANDS.put("verify", VerifyCommand::new);
        SUBCOMMANDS.put("compact", CompactCommand::new);
        SUBCOMMANDS.put("demo", DemoCommand::new);
    }

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
        description = "On failure, print the stack trace after the one-line message.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Picocli instantiates this command. */
    public Main() {
    }

    /**
     * Runs the command and exits the JVM with its exit code.
     *
     * @param args command-line arguments.
     */
    public static void main(final String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command in this JVM, writing to {@code System.out} and {@code System.err}.
     *
     * @param args command-line arguments.
     * @return the exit code.
     */
    public static int run(final String... args) {
        return commandLine(args).execute(args);
    }

    /**
     * The configured command line with every subcommand: exit-code mapping, one-line error reporting,
     * case-insensitive enum values. Tests set its out and err writers and call
     * {@link CommandLine#execute(String...)}.
     *
     * @return a new command line for {@code actcache}.
     */
    public static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * @param args the arguments it will execute: when they name a subcommand, only that one is built.
     * @return a new command line for {@code actcache}.
     * @see #commandLine()
     */
    public static CommandLine commandLine(final String... args) {
        final String requested = firstPositional(args);
        final CommandLine commandLine = new CommandLine(new Main());
        SUBCOMMANDS.forEach((name, command) -> {
            if (!SUBCOMMANDS.containsKey(requested) || requested.equals(name)) {
                commandLine.addSubcommand(name, command.get());
            }
        });
        if (!SUBCOMMANDS.containsKey(requested)) {
            commandLine.addSubcommand("help", new CommandLine.HelpCommand());
        }
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExitCodeExceptionMapper(ExitCodes::of);
        commandLine.setExecutionExceptionHandler(ExitCodes::handleExecutionException);
        commandLine.setParameterExceptionHandler(ExitCodes::handleParameterException);
        return commandLine;
    }

    /** Without a subcommand: print the usage to stdout and succeed, as {@code git} does. */
    @Override
    public void run() {
        final PrintWriter out = spec.commandLine().getOut();
        spec.commandLine().usage(out);
        out.flush();
    }

    private static String firstPositional(final String[] args) {
        for (final String arg : args) {
            if (!arg.startsWith("-")) {
                return arg;
            }
        }
        return null;
    }

    /** Reports the version from the jar manifest ({@code Implementation-Version}), and the JVM running it. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            final String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "actcache " + (version == null ? "(development build)" : version),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ", "
                    + System.getProperty("java.vendor") + ") on " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch")};
        }
    }
}
