package dev.vgrad.kernel;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every kernel uses, chosen once at class load, a deterministic lane sum, and the
 * start-up check that the Vector API is really compiled to SIMD instructions on this JVM.
 */
public final class Simd {
    private Simd() {}

    /**
     * The one float species of every kernel, GEMM included: the widest the CPU supports (512-bit on AVX-512,
     * 256-bit on AVX2), or a narrower one chosen with {@code -Dvgrad.vector.bits=256} (or 128) to compare.
     *
     * <p>One species per JVM, not one per kernel: the Vector API's public methods (add, fma, intoArray with
     * a mask ...) are shared bytecode that calls each shape's implementation through the receiver's type
     * profile, because C2 expands the vector intrinsics after parsing. When a JVM ran two shapes (the build's
     * old 256-bit leg: GEMM at 256, the other kernels at 512), C2 dispatched those calls on both profiled
     * types, and a vector merged over that dispatch is boxed: about a third of the suite's JVM runs then
     * allocated tens of KB per training step (compile logs showed the two-type dispatch in packA, sgd and
     * addBias; with one shape it never appears).
     *
     * <p>The same dispatch needs a receiver class in some profile. A kernel path first taken after its
     * method was compiled with profiling records only a count at a call of a final method such as
     * {@code max(v)}, and when that method's own profile is empty too C2 leaves its {@code lanewise} call
     * virtual and boxes the vectors (softmax's row max, whose loop runs only for rows of at least one vector). Such
     * paths call the virtual method itself, {@code lanewise(MAX, v)}, whose receiver is profiled at the
     * kernel's own call site.
     */
    public static final VectorSpecies<Float> FLOATS = species();

    /** Float lanes per vector. */
    public static final int LANES = FLOATS.length();

    /** Why the vector kernels cannot run as SIMD here, or null when they can. */
    private static final String PROBLEM = problem();

    /**
     * True when the Vector API is compiled to SIMD (HotSpot with its C2 compiler, vectors of at least
     * 4 floats); when false the GEMM family runs its scalar twins (a vector loop that is interpreted
     * or compiled by C1 is tens of times slower than plain Java loops).
     */
    public static final boolean VECTORIZED = PROBLEM == null;

    static {
        if (PROBLEM != null) {
            System.err.println("vgrad: warning: the Vector API is not compiled to SIMD on this JVM (" + PROBLEM
                    + "); the matrix kernels fall back to scalar loops");
        }
    }

    /** One line for the CLI's {@code info}: species and whether vector kernels are compiled to SIMD. */
    public static String status() {
        String base = "species " + FLOATS + " (" + LANES + " floats), GEMM " + GemmBlocking.describe();
        return VECTORIZED ? "SIMD: yes, " + base : "SIMD: NO (" + PROBLEM + "), scalar GEMM fallback; " + base;
    }

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty("vgrad.vector.bits", "");
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        VectorSpecies<Float> s = choose(bits, preferred);
        if (s == null) {
            System.err.println("vgrad: warning: -Dvgrad.vector.bits=" + bits + " is not 128, 256 or 512 bits at most this CPU's "
                    + preferred.vectorBitSize() + "; using the " + preferred.vectorBitSize() + "-bit species");
            s = preferred;
        }
        return s;
    }

    /**
     * The float species for a {@code vgrad.vector.bits} value: the preferred one for "" (not set), the one of
     * that many bits when the CPU has it (not wider than preferred), null for any other value.
     */
    static VectorSpecies<Float> choose(String bits, VectorSpecies<Float> preferred) {
        if (bits.isEmpty()) return preferred;
        for (VectorSpecies<Float> s : List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512)) {
            if (bits.equals(Integer.toString(s.vectorBitSize())) && s.vectorBitSize() <= preferred.vectorBitSize()) return s;
        }
        return null;
    }

    private static String problem() {
        String vm = System.getProperty("java.vm.name", "") + " " + System.getProperty("java.vm.vendor", "");
        if (vm.contains("OpenJ9") || vm.contains("Eclipse OpenJ9")) return "OpenJ9 does not intrinsify the Vector API";
        if (System.getProperty("java.vm.info", "").contains("interpreted mode")) return "interpreter-only JVM (-Xint)";
        // the JVM's own flags, as the OS reports the command line (java.base only)
        String[] args = ProcessHandle.current().info().arguments().orElse(new String[0]);
        for (String a : args) {
            if (a.equals("-Xint")) return "interpreter-only JVM (-Xint)";
            if (a.equals("-XX:-UseCompiler")) return "JIT disabled (-XX:-UseCompiler)";
            if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) return "C2 disabled (" + a + ")";
        }
        if (FLOATS.length() < 4) return "no SIMD registers of 128 bits or more (species " + FLOATS + ")";
        return null;
    }

    /**
     * Lane rotations by 8, 4, 2 and 1 (those as wide as the species or wider are null and unused) for
     * fixed-order lane sums. {@code reduceLanes(ADD)} may add the lanes in one order when interpreted and
     * in another when C2-compiled, so a seeded run would change its last bits as the JIT warms up; a
     * kernel instead folds its accumulator v with {@code v = v.add(v.rearrange(R8))}, then R4, R2, R1,
     * and reads lane 0: the same bits in every tier. The fold is written out at each use rather than in
     * a helper method, because a vector passed to a call that C2 does not inline is boxed (allocates).
     */
    public static final VectorShuffle<Float> R8 = rotation(8), R4 = rotation(4), R2 = rotation(2), R1 = rotation(1);

    private static VectorShuffle<Float> rotation(int d) {
        return d < LANES ? VectorShuffle.iota(FLOATS, d, 1, true) : null;
    }
}
