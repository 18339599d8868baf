package io.actcache.tensor;

import io.actcache.InvalidShapeException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShapeTest {
    @Test
    void shouldRejectNegativeDimensionNamingTheShape() {
        final InvalidShapeException e = assertThrows(InvalidShapeException.class, () -> Shape.of(2, -1, 3));
        assertTrue(e.getMessage().contains("[2, -1, 3]") && e.getMessage().contains("axis 1"), e.getMessage());
    }

    @Test
    void shouldRejectRankNineNamingTheShape() {
        final InvalidShapeException e =
            assertThrows(InvalidShapeException.class, () -> Shape.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
        assertTrue(e.getMessage().contains("[1, 2, 3, 4, 5, 6, 7, 8, 9]") && e.getMessage().contains("rank 9"),
            e.getMessage());
        assertEquals(Shape.MAX_RANK, Shape.of(1, 2, 3, 4, 5, 6, 7, 8).rank());
    }

    @Test
    void shouldRejectElementCountOverflowNamingTheShape() {
        final InvalidShapeException e =
            assertThrows(InvalidShapeException.class, () -> Shape.of(1L << 32, 1L << 31));
        assertTrue(e.getMessage().contains("[4294967296, 2147483648]"), e.getMessage());
        assertEquals(Long.MAX_VALUE, Shape.of(Long.MAX_VALUE).elementCount());
        assertEquals(1L << 62, Shape.of(1L << 31, 1L << 31).elementCount());
    }

    @Test
    void shouldRejectEmptyShapeWhoseOtherDimsOverflow() {
        final InvalidShapeException e =
            assertThrows(InvalidShapeException.class, () -> Shape.of(0, 1L << 40, 1L << 40));
        assertTrue(e.getMessage().contains("[0, 1099511627776, 1099511627776]"), e.getMessage());
        final Shape empty = Shape.of(0, 1L << 40, 1L << 20);
        assertEquals(0, empty.elementCount());
        assertEquals(1L << 60, empty.trailing().elementCount());
    }

    @Test
    void shouldRejectByteSizeOverflowNamingTheShapeAndDType() {
        final Shape shape = Shape.of(1L << 61, 2);
        assertEquals(1L << 62, shape.byteSize(DType.I8));
        assertEquals(Long.MAX_VALUE - 1, Shape.of(Long.MAX_VALUE / 2).byteSize(DType.I16));
        final InvalidShapeException e = assertThrows(InvalidShapeException.class, () -> shape.byteSize(DType.F32));
        assertTrue(e.getMessage().contains("[2305843009213693952, 2]") && e.getMessage().contains("F32"),
            e.getMessage());
        assertThrows(InvalidShapeException.class, () -> Shape.of(Long.MAX_VALUE / 2 + 1).byteSize(DType.BF16));
    }

    @Test
    void shouldDescribeAScalar() {
        final Shape scalar = Shape.of();
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.elementCount());
        assertEquals(1, scalar.rowElements());
        assertEquals(8, scalar.byteSize(DType.F64));
        assertEquals("[]", scalar.toString());
        assertArrayEquals(new long[0], scalar.dims());
        final InvalidShapeException trailing = assertThrows(InvalidShapeException.class, scalar::trailing);
        assertTrue(trailing.getMessage().contains("trailing") && trailing.getMessage().contains("[]"));
        assertThrows(InvalidShapeException.class, () -> scalar.withDim0(3));
        assertFalse(scalar.sameTrailingDims(Shape.of()));
    }

    @Test
    void shouldReplaceDim0() {
        final Shape shape = Shape.of(8, 128, 768);
        assertEquals(Shape.of(100, 128, 768), shape.withDim0(100));
        assertEquals(Shape.of(0, 128, 768), shape.withDim0(0));
        assertEquals(Shape.of(8, 128, 768), shape, "withDim0 must not change the original");
        final InvalidShapeException negative = assertThrows(InvalidShapeException.class, () -> shape.withDim0(-1));
        assertTrue(negative.getMessage().contains("[-1, 128, 768]"), negative.getMessage());
        assertThrows(InvalidShapeException.class, () -> shape.withDim0(Long.MAX_VALUE));
    }

    @Test
    void shouldDropAndPrependLeadingDims() {
        final Shape shape = Shape.of(8, 128, 768);
        assertEquals(Shape.of(128, 768), shape.trailing());
        assertEquals(128 * 768, shape.trailing().elementCount());
        assertEquals(128 * 768, shape.rowElements());
        assertEquals(Shape.of(), Shape.of(5).trailing());
        assertEquals(1, Shape.of(5).trailing().elementCount());
        assertEquals(Shape.of(4, 8, 128, 768), shape.prepend(4));
        assertEquals(Shape.of(3), Shape.of().prepend(3));
        assertThrows(InvalidShapeException.class, () -> Shape.of(1, 2, 3, 4, 5, 6, 7, 8).prepend(1));
        assertThrows(InvalidShapeException.class, () -> shape.prepend(-2));
        assertThrows(InvalidShapeException.class, () -> Shape.of(1L << 62).prepend(4));
    }

    @Test
    void shouldCompareTrailingDims() {
        assertTrue(Shape.of(8, 128, 768).sameTrailingDims(Shape.of(1, 128, 768)));
        assertTrue(Shape.of(0, 3).sameTrailingDims(Shape.of(9, 3)));
        assertTrue(Shape.of(5).sameTrailingDims(Shape.of(7)));
        assertFalse(Shape.of(8, 128, 768).sameTrailingDims(Shape.of(8, 128, 767)));
        assertFalse(Shape.of(8, 128).sameTrailingDims(Shape.of(8, 128, 1)));
        assertFalse(Shape.of(5).sameTrailingDims(Shape.of()));
    }

    @Test
    void shouldImplementEqualsHashCodeAndToString() {
        final Shape a = Shape.of(2, 3, 4);
        final Shape b = Shape.of(new long[] {2, 3, 4});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, Shape.of(2, 3));
        assertNotEquals(a, Shape.of(4, 3, 2));
        assertNotEquals(a, "[2, 3, 4]");
        assertNotEquals(null, a);
        assertEquals(Shape.of(), Shape.of(new long[0]));
        assertNotEquals(Shape.of(), Shape.of(1));
        assertEquals("[2, 3, 4]", a.toString());
        assertEquals("[0]", Shape.of(0).toString());
    }

    @Test
    void shouldBeImmutable() {
        final long[] dims = {2, 3};
        final Shape shape = Shape.of(dims);
        dims[0] = 99;
        assertEquals(Shape.of(2, 3), shape, "of() must copy its argument");
        shape.dims()[1] = 99;
        assertEquals(3, shape.dim(1), "dims() must return a copy");
        assertEquals(6, shape.elementCount());
    }
}
