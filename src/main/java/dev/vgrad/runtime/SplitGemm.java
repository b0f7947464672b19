package dev.vgrad.runtime;

import dev.vgrad.kernel.Gemm;
import dev.vgrad.kernel.GemmEpilogue;
import dev.vgrad.kernel.GemmWorkspace;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One GEMM, C = ep((+)op(A)·op(B)), split over the engine's {@link WorkerPool} the way a training step splits it: the
 * one place that decides how, used by {@link Executor} for every GEMM step and by the benchmarks, so that they measure
 * what training runs.
 * <ul>
 *   <li>Below {@link Gemm#worthSplitting} the calling thread runs it alone.</li>
 *   <li>A blocked product whose shared operand packs into one block is cut into more chunks than threads
 *       ({@link Gemm#chunks}): each thread takes its own share's chunks from the front ({@link #claim}), then the chunks
 *       left at the back of the others' shares, so a thread woken late or on a core the host slows takes fewer; a thread
 *       packs the shared operand once, for its first chunk, however many it takes. Others split into one static part a
 *       thread (rows or columns of C, {@link Gemm#run}).</li>
 *   <li>A product split by columns ({@link Gemm#splitsColumns}) runs its epilogue apart: after all parts, a second
 *       dispatch split by rows ({@link GemmEpilogue#applyRows}), because an element-wise pass over a C whose every row
 *       both cores wrote is slow.</li>
 * </ul>
 * Every element is summed in the same order whatever the split, so the bits are those of one thread. Each part packs
 * into its own {@link GemmWorkspace} (part p's, whichever thread runs it: the pool may run a late worker's part on the
 * caller), allocated here once; nothing is allocated per product. Not thread-safe: one
 * caller at a time (as an executor is).
 */
public final class SplitGemm {
    /** Longs between two threads' words of {@link #claim}'s array: one share per 128-byte pair of cache lines. */
    static final int PAD = 16;

    private final int maxM, maxN, maxK;
    private GemmWorkspace[] workspaces = new GemmWorkspace[0];
    // part p's own chunks [lo, hi) as (lo << 32 | hi) at ranges[p * PAD]
    private AtomicLongArray ranges;
    private int threads;
    private long chunkedRuns;

    // the product being run
    private int form, m, n, k, aOff, bOff, cOff, chunks;
    private float[] a, b, c;
    private boolean accumulate, epilogueApart;
    private GemmEpilogue epilogue;
    private final WorkerPool.Task partTask = this::part;
    private final WorkerPool.Task chunkTask = this::chunkPart;
    private final WorkerPool.Task epilogueTask = this::epiloguePart;

    /** Workspaces for products of at most maxM x maxN x maxK (m, n and k taken separately), one per thread. */
    public SplitGemm(int maxM, int maxN, int maxK, int threads) {
        this.maxM = maxM;
        this.maxN = maxN;
        this.maxK = maxK;
        setThreads(threads);
    }

    /** Changes the thread count (allocates workspaces and starts pool workers as needed: not per product). */
    public void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        WorkerPool.common().ensureThreads(threads);
        GemmWorkspace[] ws = java.util.Arrays.copyOf(workspaces, threads);
        for (int i = 0; i < threads; i++) if (ws[i] == null) ws[i] = new GemmWorkspace(maxM, maxN, maxK);
        this.workspaces = ws;
        this.ranges = new AtomicLongArray(threads * PAD);
        this.threads = threads;
    }

    /** Threads each product is split over. */
    public int threads() { return threads; }

    /** Thread {@code t}'s packing workspace (0: the caller's own). */
    public GemmWorkspace workspace(int t) { return workspaces[t]; }

    /** How many products ran as chunks claimed by free threads so far: a diagnostic for tests and probes. */
    public long chunkedRuns() { return chunkedRuns; }

    /**
     * C[m,n] = ep((+)op(A)·op(B)) in form {@code form} ({@link Gemm#NN}, {@link Gemm#NT}, {@link Gemm#TN}), split over
     * {@link #threads()} threads as above; {@code ep} may be null.
     */
    public void run(int form, int m, int n, int k, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                    boolean accumulate, GemmEpilogue ep) {
        if (!Gemm.worthSplitting(m, n, k, threads)) {
            Gemm.run(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, workspaces[0], 0, 1);
            return;
        }
        this.form = form;
        this.m = m;
        this.n = n;
        this.k = k;
        this.a = a;
        this.aOff = aOff;
        this.b = b;
        this.bOff = bOff;
        this.c = c;
        this.cOff = cOff;
        this.accumulate = accumulate;
        this.epilogue = ep;
        // a product split by columns has every part write part of every row of C, and an element-wise pass over C
        // split that way is slow (Gemm.splitsColumns): its epilogue then runs after it, split by rows (two threads, each
        // product run alone, probe: fc2's forward 98.9-100.4 -> 92.1-93.9 us, a dx·relu' of its shape 106.0-107.6 ->
        // 98.2-100.0)
        epilogueApart = ep != null && !ep.isNone() && Gemm.splitsColumns(form, m, n, k, accumulate, threads);
        try {
            // a blocked product whose shared operand is one packed block is cut into more chunks than threads, claimed
            // as threads come free (the same bits: chunks are whole register blocks)
            int ch = Gemm.chunks(form, m, n, k, accumulate, threads);
            if (ch > 0) {
                chunks = ch;
                share(ranges, ch, threads);
                chunkedRuns++;
                WorkerPool.common().run(chunkTask, threads);
            } else {
                WorkerPool.common().run(partTask, threads);
            }
            if (epilogueApart) WorkerPool.common().run(epilogueTask, threads);
        } finally {
            // hold no caller's arrays between products
            this.a = this.b = this.c = null;
            this.epilogue = null;
            epilogueApart = false;
        }
    }

    /**
     * How {@link #run} splits this product over {@code threads} threads, in words: "one thread" (below
     * {@link Gemm#worthSplitting}), "N parts by rows|columns", or "N chunks by rows|columns", with ", epilogue apart by
     * rows" when a column split runs its epilogue after the parts. The same tests {@link #run} makes.
     */
    public static String describe(int form, int m, int n, int k, boolean accumulate, GemmEpilogue ep, int threads) {
        if (!Gemm.worthSplitting(m, n, k, threads)) return "one thread";
        boolean columns = Gemm.splitsColumns(form, m, n, k, accumulate, threads);
        int chunks = Gemm.chunks(form, m, n, k, accumulate, threads);
        String split = chunks > 0 ? chunks + " chunks" : threads + " parts";
        boolean apart = ep != null && !ep.isNone() && columns;
        return split + (columns ? " by columns" : " by rows") + (apart ? ", epilogue apart by rows" : "");
    }

    /**
     * How a product split into {@code parts} static parts, its epilogue fused ({@link Gemm#run}; a step of a side-by-side
     * lane), is cut: "one thread" or "N parts by rows|columns".
     */
    public static String describeParts(int form, int m, int n, int k, boolean accumulate, int parts) {
        if (!Gemm.worthSplitting(m, n, k, parts)) return "one thread";
        return parts + " parts" + (Gemm.splitsColumns(form, m, n, k, accumulate, parts) ? " by columns" : " by rows");
    }

    // static part of parts
    private void part(int part, int parts) {
        Gemm.run(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, epilogueApart ? null : epilogue, workspaces[part],
                part, parts);
    }

    // thread part of a chunked product: claims chunks until none is left (in every thread's share, however many parts the
    // pool ran: the chunks and their split follow this object's thread count); its workspace keeps the shared operand it
    // packed for its first chunk (nothing else packs into a thread's workspace meanwhile)
    private void chunkPart(int part, int parts) {
        boolean packed = false;
        GemmEpilogue ep = epilogueApart ? null : epilogue;
        for (int ch; (ch = claim(ranges, part)) >= 0; packed = true) {
            Gemm.runChunk(form, m, n, k, a, aOff, b, bOff, c, cOff, accumulate, ep, workspaces[part], ch, chunks, threads,
                    packed);
        }
    }

    // part of parts of the epilogue run apart: rows [m·part/parts, m·(part + 1)/parts) of C
    private void epiloguePart(int part, int parts) {
        epilogue.applyRows(c, cOff, n, m * part / parts, m * (part + 1) / parts);
    }

    /** Shares chunks [0, chunks) out among {@code parts} parts: part p's own are [chunks·p/parts, chunks·(p+1)/parts). */
    static void share(AtomicLongArray ranges, int chunks, int parts) {
        for (int p = 0; p < parts; p++) ranges.set(p * PAD, (long) (chunks * p / parts) << 32 | chunks * (p + 1) / parts);
    }

    /**
     * The next chunk for {@code part}: its own share's from the front, then the other shares' from the back; -1 when none
     * is left. Each chunk goes to exactly one caller (compare-and-set on its share's word). A part's chunks stay
     * contiguous but for the few it takes from another's far end: handing out chunks one at a time from one counter,
     * so that both cores write a few lines of every row of C, ran the MLP's two-thread step 4 % slower (probe).
     */
    static int claim(AtomicLongArray ranges, int part) {
        int parts = ranges.length() / PAD;
        for (int q = 0; q < parts; q++) {
            int at = (part + q) % parts * PAD;
            while (true) {
                long v = ranges.get(at);
                int lo = (int) (v >>> 32), hi = (int) v;
                if (lo >= hi) break;
                if (q == 0 ? ranges.compareAndSet(at, v, (long) (lo + 1) << 32 | hi)
                        : ranges.compareAndSet(at, v, (long) lo << 32 | (hi - 1))) {
                    return q == 0 ? lo : hi - 1;
                }
            }
        }
        return -1;
    }
}
