package dev.vgrad.cli;

import dev.vgrad.cli.model.ModelFileException;
import dev.vgrad.io.DataException;
import java.io.PrintWriter;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code vgrad}: train, evaluate and use dense networks from the command line.
 * Exit codes: 0 done, 2 bad input or usage (one line naming the file and line/offset; {@code --verbose}
 * adds the stack trace), 1 anything else.
 */
@Command(name = "vgrad", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train and run dense neural networks on the CPU with the JDK Vector API.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, InfoCommand.class, GraphCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Exit code of bad input: a missing, unreadable or malformed file, or a value out of range. */
    public static final int BAD_INPUT = 2;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true), err = new PrintWriter(System.err, true);
        System.exit(run(args, out, err));
    }

    /** Runs the tool with the given streams; returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true"); // charts need no display
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, line, parse) -> {
            boolean bad = e instanceof DataException || e instanceof ModelFileException || e instanceof IllegalArgumentException;
            String msg = e.getMessage() == null ? e.getClass().getName() : e.getMessage().lines().findFirst().orElse("");
            line.getErr().println("vgrad " + line.getCommandName() + ": " + (bad ? "" : e.getClass().getSimpleName() + ": ") + msg);
            if (verbose) e.printStackTrace(line.getErr());
            else if (!bad) line.getErr().println("(run with --verbose for the stack trace)");
            line.getErr().flush();
            return bad ? BAD_INPUT : 1;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"vgrad " + (v == null ? "0.1.0-SNAPSHOT" : v) + " on Java " + Runtime.version()};
        }
    }
}
