package dev.vgrad.cli;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.vgrad.kernel.Simd;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code vgrad info}: the JDK, the CPU's vector features, the species the kernels use, threads, and whether C2 compiles the Vector API. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the JDK, CPU vector features, vector species and JIT status.")
final class InfoCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    private static final List<String> FEATURES = List.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl",
            "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve", "sve2");

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        var rt = ManagementFactory.getRuntimeMXBean();
        w.printf("java       %s (%s, %s)%n", Runtime.version(), System.getProperty("java.vm.name"), System.getProperty("java.vendor"));
        w.printf("java.home  %s%n", System.getProperty("java.home"));
        w.printf("os         %s %s %s%n", System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"));
        Cpu cpu = cpu();
        w.printf("cpu        %s%n", cpu.model);
        w.printf("features   %s%n", cpu.flags.isEmpty() ? "(unknown: no /proc/cpuinfo)" : String.join(" ", cpu.flags));
        w.printf("species    %s: %d float lanes, %d bits%n", Simd.FLOATS, Simd.LANES, Simd.FLOATS.vectorBitSize());
        w.printf("threads    %d available processors; this engine build trains on 1 thread (--threads is recorded)%n",
                Runtime.getRuntime().availableProcessors());
        w.printf("jit        %s%n", jit(rt.getInputArguments()));
        w.printf("jvm args   %s%n", String.join(" ", rt.getInputArguments()));
        w.flush();
        return 0;
    }

    record Cpu(String model, Set<String> flags) {}

    static Cpu cpu() {
        String model = System.getProperty("os.arch");
        Set<String> flags = new TreeSet<>((a, b) -> Integer.compare(FEATURES.indexOf(a), FEATURES.indexOf(b)));
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int c = line.indexOf(':');
                if (c < 0) continue;
                String key = line.substring(0, c).trim(), value = line.substring(c + 1).trim();
                if (key.equals("model name") || key.equals("Model")) model = value;
                if (key.equals("flags") || key.equals("Features")) {
                    for (String f : value.split("\\s+")) if (FEATURES.contains(f)) flags.add(f);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: leave the features unknown
        }
        return new Cpu(model, flags);
    }

    /**
     * Whether the Vector API is compiled to SIMD: it is when C2 runs (not -Xint, tiered compilation reaching level 4)
     * and the JVM may use vectors as wide as the species (MaxVectorSize, UseAVX on x86). Read from the VM's flags.
     */
    static String jit(List<String> args) {
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        String mode = System.getProperty("java.vm.info", "");
        if (args.contains("-Xint") || mode.contains("interpreted")) return "interpreter only (-Xint): the Vector API runs as slow Java, not SIMD";
        if (hs == null) return "unknown (no HotSpot diagnostic bean): " + mode;
        String stop = option(hs, "TieredStopAtLevel"), tiered = option(hs, "TieredCompilation"), maxVec = option(hs, "MaxVectorSize");
        String useAvx = option(hs, "UseAVX"), vecSupport = option(hs, "EnableVectorSupport");
        boolean c2 = "false".equals(tiered) || stop == null || Integer.parseInt(stop) >= 4;
        if (!c2) return "C1 only (TieredStopAtLevel=" + stop + "): the Vector API is not compiled to SIMD";
        if ("false".equals(vecSupport)) return "C2, but EnableVectorSupport=false: the Vector API is not intrinsified";
        int bytes = maxVec == null ? -1 : Integer.parseInt(maxVec);
        StringBuilder sb = new StringBuilder("C2 compiles the Vector API to SIMD");
        if (bytes > 0 && bytes * 8 < Simd.FLOATS.vectorBitSize()) {
            sb = new StringBuilder("C2, but MaxVectorSize=" + bytes + " bytes is narrower than the " + Simd.FLOATS.vectorBitSize() + "-bit species");
        }
        sb.append(" (").append(mode);
        if (maxVec != null) sb.append(", MaxVectorSize=").append(maxVec);
        if (useAvx != null) sb.append(", UseAVX=").append(useAvx);
        return sb.append(')').toString();
    }

    private static String option(HotSpotDiagnosticMXBean hs, String name) {
        try {
            return hs.getVMOption(name).getValue();
        } catch (IllegalArgumentException e) {
            return null; // not a flag of this VM or architecture
        }
    }

}
