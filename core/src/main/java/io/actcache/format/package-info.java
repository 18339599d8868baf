/**
 * File formats read and written without a store: NPY ({@link io.actcache.format.NpyHeader} for headers, used by
 * the store's columns too; {@link io.actcache.format.NpyFile} for whole files) and safetensors
 * ({@link io.actcache.format.SafetensorsHeader}, {@link io.actcache.format.SafetensorsFile},
 * {@link io.actcache.format.SafetensorsWriter}).
 *
 * <p>Readers validate a header completely before exposing anything and hand tensors out as zero-copy
 * {@link io.actcache.tensor.TensorView}s over lazily mapped, bounded chunks; writers stream from views with
 * positional channel writes. Parsers take byte buffers too ({@code SafetensorsHeader.parse}, {@code NpyHeader.parse}),
 * the entry points for fuzzing. Depends only on {@code io.actcache.tensor} and the root exceptions.
 */
package io.actcache.format;
