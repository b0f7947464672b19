package dev.vgrad.graph;

/**
 * The shape of a node's value: a row-major matrix of {@code rows x cols} floats.
 * A batched shape has one row per sample (rows = the compiled batch); a parameter's shape is not batched.
 */
public record Shape(int rows, int cols, boolean batched) {
    public Shape {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("shape must be positive, got (" + rows + ", " + cols + ")");
        }
        if ((long) rows * cols > Integer.MAX_VALUE) { // size() would wrap around
            throw new GraphException("shape (" + rows + ", " + cols + ") has more than 2^31-1 elements");
        }
    }

    public static Shape batch(int rows, int cols) { return new Shape(rows, cols, true); }

    public static Shape matrix(int rows, int cols) { return new Shape(rows, cols, false); }

    /** Elements at the full compiled size. */
    public int size() { return rows * cols; }

    @Override
    public String toString() { return "(" + rows + ", " + cols + ")"; }
}
