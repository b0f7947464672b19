package dev.vgrad.io;

/** A data file that cannot be read as asked: the message names the file and the line or byte offset at fault. */
public class DataException extends RuntimeException {
    public DataException(String message) { super(message); }

    public DataException(String message, Throwable cause) { super(message, cause); }
}
