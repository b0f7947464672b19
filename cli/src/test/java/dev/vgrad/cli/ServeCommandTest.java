package dev.vgrad.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vgrad serve}: usage and bad input (serving itself is ServeExampleTest's). */
class ServeCommandTest {
    @TempDir Path dir;

    @Test
    void aMissingModelFileIsBadInputNamingIt() {
        Cli c = Cli.run("serve", dir.resolve("nope.safetensors").toString(), "--port", "0");
        assertEquals(Main.BAD_INPUT, c.code(), c.toString());
        assertTrue(c.err().startsWith("vgrad serve: ") && c.err().contains("nope.safetensors"), c.toString());
    }

    @Test
    void aPortOutOfRangeIsBadInput() {
        Cli c = Cli.run("serve", dir.resolve("m.safetensors").toString(), "--port", "70000");
        assertEquals(Main.BAD_INPUT, c.code(), c.toString());
        assertTrue(c.err().contains("--port must be in [0, 65535], got 70000"), c.toString());
    }

    @Test
    void helpListsTheOptions() {
        Cli c = Cli.run("serve", "--help");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().contains("--port") && c.out().contains("--bf16") && c.out().contains("POST /predict"), c.out());
    }
}
