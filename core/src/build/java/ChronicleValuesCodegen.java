// Build-time only: run by the core pom as a single-file source program
//   java <flags> -cp <compile classpath> ChronicleValuesCodegen.java OUT_DIR INTERFACE...
// It writes the exact Java source Chronicle-Values would otherwise generate and javac-compile at run time for
// each value interface (see DEPENDENCIES.md: the first Chronicle Map opened in a JVM pays about a second for it).
// The build compiles the output into actcache-core, where ValueModel.createClass finds it with loadClass.
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.values.ValueModel;

public final class ChronicleValuesCodegen {
    private ChronicleValuesCodegen() {
    }

    public static void main(final String[] args) throws Exception {
        final Path outDir = Path.of(args[0]);
        // Package-private in Chronicle-Values: static String Generators.generateNativeClass(ValueModel, String).
        final Method generate = Class.forName("net.openhft.chronicle.values.Generators")
            .getDeclaredMethod("generateNativeClass", ValueModel.class, String.class);
        generate.setAccessible(true);
        for (int i = 1; i < args.length; i++) {
            final Class<?> valueInterface = Class.forName(args[i]);
            final String packageName = valueInterface.getPackageName();
            // The name ValueModel looks up: the simple name within the package plus "$$Native".
            final String simpleName = valueInterface.getName().substring(packageName.length() + 1) + "$$Native";
            final String source = (String) generate.invoke(null, ValueModel.acquire(valueInterface), simpleName);
            final Path file = outDir.resolve(packageName.replace('.', '/')).resolve(simpleName + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source, StandardCharsets.UTF_8);
            System.out.println("[chronicle-values codegen] wrote " + file);
        }
    }
}
