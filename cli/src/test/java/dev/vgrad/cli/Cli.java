package dev.vgrad.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the tool in-process through its entry point, capturing what it prints. */
record Cli(int code, String out, String err) {
    static Cli run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(code, out.toString(), err.toString());
    }

    /** The one line matching the prefix (after carriage returns of the progress bar). */
    String line(String prefix) {
        for (String l : out.replace('\r', '\n').split("\n")) if (l.startsWith(prefix)) return l;
        throw new AssertionError("no line starting with '" + prefix + "' in:\n" + out + "\nstderr:\n" + err);
    }

    @Override
    public String toString() { return "exit " + code + "\n--- out\n" + out + "--- err\n" + err; }
}
