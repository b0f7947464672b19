package dev.vgrad.cli.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vgrad.graph.Graph;
import dev.vgrad.graph.GraphBuilder;
import dev.vgrad.train.Optimizer;
import dev.vgrad.train.Trainer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
    @TempDir Path dir;

    /**
     * The header's JSON can hold "\r" in the graph text; the loader quoted the bad initialiser with its carriage return,
     * so the message broke over two lines (found by CorruptModelFileProperties, seed 4604157729126170716).
     */
    @Test
    void aMessageQuotingALineBreakFromTheFileStaysOneLine() throws Exception {
        GraphBuilder b = Graph.builder();
        b.mse(b.dense("fc", b.input("x", 2, 3), 1));
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, new Trainer(b.build(), new Optimizer.Sgd(0.1f), 1), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        String latin = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = latin.indexOf("zeros");
        assertTrue(at > 0, "the bias initialiser is in the header");
        // the same length, so the header stays consistent: JSON z\ros reads as z, CR, os
        System.arraycopy("z\\ros".getBytes(StandardCharsets.ISO_8859_1), 0, bytes, at, 5);
        Files.write(f, bytes);
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelFile.load(f));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains("unknown initialiser 'z\\ros'"), e.getMessage());
    }
}
