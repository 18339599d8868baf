package io.actcache.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.PrintWriter;

/** Prints one pretty-printed JSON value per command, for {@code --json}: commands supply the body. */
final class JsonOutput {
    private static final JsonFactory FACTORY = new JsonFactory();

    /** Writes the JSON value of a command. */
    @FunctionalInterface
    interface Body {
        /**
         * @param gen the generator, positioned where the value goes.
         * @throws IOException when writing fails.
         */
        void write(JsonGenerator gen) throws IOException;
    }

    private JsonOutput() {
    }

    /**
     * Prints the value and a newline; the writer stays open.
     *
     * @param out  the command's output.
     * @param body writes exactly one JSON value.
     * @throws IOException when writing fails.
     */
    static void print(final PrintWriter out, final Body body) throws IOException {
        try (JsonGenerator gen = FACTORY.createGenerator(out)) {
            gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            gen.useDefaultPrettyPrinter();
            body.write(gen);
        }
        out.println();
    }

    /**
     * Writes a shape as an array of dims.
     *
     * @param gen   the generator.
     * @param name  the field name.
     * @param shape the shape.
     * @throws IOException when writing fails.
     */
    static void shapeField(final JsonGenerator gen, final String name, final io.actcache.tensor.Shape shape)
        throws IOException {
        gen.writeArrayFieldStart(name);
        for (int i = 0; i < shape.rank(); i++) {
            gen.writeNumber(shape.dim(i));
        }
        gen.writeEndArray();
    }
}
