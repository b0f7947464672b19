package dev.vgrad.compile;

/** A region of one space: {@code size} floats at {@code offset} (at the compiled batch). */
public record Operand(Space space, int offset, int size, String name) {
    @Override
    public String toString() {
        return name + "@" + space.name().charAt(0) + offset;
    }
}
