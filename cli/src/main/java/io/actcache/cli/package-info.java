/**
 * The {@code actcache} command line: {@link io.actcache.cli.Main} and one picocli subcommand class per command
 * ({@code info}, {@code demo}). {@link io.actcache.cli.ExitCodes} maps failures to exit codes and prints the
 * one-line error message every command shares. Commands write to picocli's out and err writers, never to
 * {@code System.out} directly, so tests run them in process.
 */
package io.actcache.cli;
