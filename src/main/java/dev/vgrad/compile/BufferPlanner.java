package dev.vgrad.compile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Places buffers in one arena from their lifetimes: two buffers may share memory only when their
 * live ranges [first, last] (inclusive step indices) do not intersect. Greedy, largest first,
 * lowest offset that fits. Offsets are aligned to {@link #ALIGN} floats (one cache line).
 */
public final class BufferPlanner {
    private BufferPlanner() {}

    public static final int ALIGN = 16;

    /** A buffer to place: size in floats and its live range. */
    public record Request(int size, int first, int last) {}

    /** Offsets for each request, in request order, and the arena size. */
    public record Placement(int[] offsets, int size) {}

    public static Placement plan(List<Request> requests, boolean reuse) {
        int n = requests.size();
        int[] offsets = new int[n];
        if (!reuse) {
            int top = 0;
            for (int i = 0; i < n; i++) {
                offsets[i] = top;
                top += align(requests.get(i).size());
            }
            return new Placement(offsets, top);
        }
        List<Integer> bySize = new ArrayList<>();
        for (int i = 0; i < n; i++) bySize.add(i);
        bySize.sort(Comparator.comparingInt((Integer i) -> -requests.get(i).size()).thenComparingInt(i -> i));
        List<Integer> placed = new ArrayList<>();
        int top = 0;
        for (int i : bySize) {
            Request r = requests.get(i);
            // the placed buffers whose lifetimes meet r's, by offset
            List<Integer> clash = new ArrayList<>();
            for (int j : placed) if (overlaps(r, requests.get(j))) clash.add(j);
            clash.sort(Comparator.comparingInt(j -> offsets[j]));
            int at = 0;
            for (int j : clash) {
                if (at + r.size() <= offsets[j]) break; // fits in the gap below j
                at = Math.max(at, align(offsets[j] + requests.get(j).size()));
            }
            offsets[i] = at;
            placed.add(i);
            top = Math.max(top, align(at + r.size()));
        }
        return new Placement(offsets, top);
    }

    public static boolean overlaps(Request a, Request b) {
        return a.first() <= b.last() && b.first() <= a.last();
    }

    static int align(int x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }
}
