package dev.vgrad.cli.model;

/**
 * A model file that cannot be written or read: missing, unreadable, truncated, or a header that breaks the
 * safetensors rules. The message names the file and the byte offset or tensor at fault, in one line.
 * Every fault {@link SafeTensors#read} and {@link ModelFile#load} find ends in this exception.
 */
public final class ModelFileException extends RuntimeException {
    private final transient java.nio.file.Path file;

    public ModelFileException(java.nio.file.Path file, String message) {
        super(oneLine(file + ": " + message));
        this.file = file;
    }

    public ModelFileException(java.nio.file.Path file, String message, Throwable cause) {
        super(oneLine(file + ": " + message), cause);
        this.file = file;
    }

    /** Line breaks shown as \r and \n: a message may quote text from the file (a JSON string can hold a CR), and must stay one line. */
    private static String oneLine(String s) { return s.replace("\r", "\\r").replace("\n", "\\n"); }

    /** The file at fault. */
    public java.nio.file.Path file() { return file; }
}
