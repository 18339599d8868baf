/**
 * GPU merge path over the JCuda driver API: concat, stack, gather and reductions of activation caches on the
 * device. Not implemented yet (issue 8); the module builds so the reactor, the CLI and the benchmarks can depend
 * on it, and it holds no code that pretends to work.
 */
package io.actcache.cuda;
