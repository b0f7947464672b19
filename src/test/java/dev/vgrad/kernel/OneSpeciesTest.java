package dev.vgrad.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * Every kernel's vectors have the one shape of {@link Simd#FLOATS}: a JVM whose kernels ran two shapes made
 * C2 dispatch the Vector API's shared methods on both profiled classes and box the vectors (the old 256-bit
 * build leg allocated in about a third of its runs). Checked on every static species field of the kernel
 * classes, so a kernel that picks its own species fails here rather than in a flaky allocation test.
 */
class OneSpeciesTest {
    @Test
    void everyKernelSpeciesHasTheShapeOfSimdFloats() throws Exception {
        VectorShape shape = Simd.FLOATS.vectorShape();
        List<String> checked = new ArrayList<>();
        for (Class<?> c : kernelClasses()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers()) || !VectorSpecies.class.isAssignableFrom(f.getType())) continue;
                f.setAccessible(true);
                VectorSpecies<?> s = (VectorSpecies<?>) f.get(null);
                assertEquals(shape, s.vectorShape(), c.getSimpleName() + "." + f.getName() + " is " + s);
                checked.add(c.getSimpleName() + "." + f.getName());
            }
        }
        // the GEMM family, the element-wise kernels and the bf16 one (an int species of the same shape) at least
        assertTrue(checked.contains("GemmBlocking.S") && checked.contains("Exp.S") && checked.contains("Gemv16.I"), checked.toString());
    }

    @Test
    void onlySimdNamesAJdkSpecies() throws java.io.IOException {
        // a kernel's own FloatVector.SPECIES_PREFERRED has Simd.FLOATS's shape by default and passes the check
        // above, yet leaves the JVM with two shapes under -Dvgrad.vector.bits; the sources (main/java beside
        // the module's target/) name no JDK species outside Simd
        Path main = classesDir().getParent().getParent().resolve("main/java");
        assertTrue(Files.isDirectory(main), main.toAbsolutePath() + " is not the engine's sources");
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(main)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".java") && !p.endsWith("Simd.java")).toList()) {
                if (Files.readString(p).contains("SPECIES_")) offenders.add(main.relativize(p).toString());
            }
        }
        assertEquals(List.of(), offenders, "sources naming a JDK species (use Simd.FLOATS)");
    }

    @Test
    void vectorBitsChoosesANarrowerSpeciesOrNothing() {
        VectorSpecies<Float> avx512 = FloatVector.SPECIES_512, avx2 = FloatVector.SPECIES_256;
        assertSame(avx512, Simd.choose("", avx512));
        assertSame(avx2, Simd.choose("256", avx512));
        assertSame(FloatVector.SPECIES_128, Simd.choose("128", avx2));
        assertSame(avx2, Simd.choose("256", avx2));
        // wider than the CPU, or not a width: null, and Simd warns and keeps the preferred species
        assertNull(Simd.choose("512", avx2));
        assertNull(Simd.choose("300", avx512));
        assertNull(Simd.choose("256bits", avx512));
    }

    /** The engine's compiled classes (target/classes). */
    private static Path classesDir() {
        try {
            return Path.of(Simd.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** The classes compiled into this package's directory (nested ones included). */
    private static List<Class<?>> kernelClasses() throws java.io.IOException, ClassNotFoundException {
        Path dir = classesDir().resolve("dev/vgrad/kernel");
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".class")).sorted().toList()) {
                String name = p.getFileName().toString();
                out.add(Class.forName("dev.vgrad.kernel." + name.substring(0, name.length() - 6)));
            }
        }
        assertTrue(out.size() > 10, "kernel classes found in " + dir + ": " + out.size());
        return out;
    }
}
