package dev.vgrad.runtime;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * A lock-free pool of per-call workspaces: a caller takes one with a single compare-and-set and gives it
 * back with another, so concurrent predictions never lock and never share scratch memory. Slots sit a
 * cache line apart so two cores taking neighbouring slots do not false-share. Workspaces are made on
 * demand: once as many exist as there are concurrent callers (at most {@code capacity} are kept), taking
 * and returning one allocates nothing. Works the same for platform and virtual threads (unlike a
 * ThreadLocal, it does not make one workspace per virtual thread).
 */
final class WorkspacePool<W> {
    /** Slots apart: 16 compressed references (or 8 plain ones) span a 64-byte line. */
    private static final int STRIDE = 16;
    private final AtomicReferenceArray<W> slots;
    private final int capacity;
    private final Supplier<W> factory;

    WorkspacePool(int capacity, Supplier<W> factory) {
        if (capacity < 1) throw new IllegalArgumentException("pool capacity must be >= 1, got " + capacity);
        this.capacity = capacity;
        this.factory = factory;
        this.slots = new AtomicReferenceArray<>(capacity * STRIDE);
    }

    /** A workspace no other caller holds: a pooled one, or a new one when all are taken. */
    W acquire() {
        int start = home();
        for (int i = 0; i < capacity; i++) {
            int s = slot(start + i);
            W w = slots.getPlain(s);
            if (w != null && slots.compareAndSet(s, w, null)) return w;
        }
        return factory.get();
    }

    /** Gives a workspace back; it is dropped when every slot is full. */
    void release(W w) {
        int start = home();
        for (int i = 0; i < capacity; i++) {
            int s = slot(start + i);
            if (slots.getPlain(s) == null && slots.compareAndSet(s, null, w)) return;
        }
    }

    /** Workspaces currently pooled (idle). */
    int idle() {
        int n = 0;
        for (int i = 0; i < capacity; i++) if (slots.get(i * STRIDE) != null) n++;
        return n;
    }

    /** The slot a thread tries first: threads spread over the pool, and one thread keeps finding its own. */
    private int home() {
        long id = Thread.currentThread().threadId();
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 33) % capacity;
    }

    private int slot(int i) {
        return (i % capacity) * STRIDE;
    }
}
