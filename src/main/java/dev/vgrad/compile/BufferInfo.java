package dev.vgrad.compile;

/** A planned arena buffer: its place and its live range (inclusive step indices). */
public record BufferInfo(String name, int offset, int size, int first, int last) {
    public boolean liveTogether(BufferInfo o) { return first <= o.last && o.first <= last; }

    public boolean overlapsInMemory(BufferInfo o) { return offset < o.offset + o.size && o.offset < offset + size; }
}
