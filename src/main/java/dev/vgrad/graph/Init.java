package dev.vgrad.graph;

/** How a parameter is initialised at compile; fanIn/fanOut are the weight's (rows, cols). */
public enum Init {
    /** U(-a, a), a = sqrt(6 / fanIn). */
    HE_UNIFORM,
    /** N(0, 2 / fanIn). */
    HE_NORMAL,
    /** U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
    GLOROT_UNIFORM,
    /** N(0, 2 / (fanIn + fanOut)). */
    GLOROT_NORMAL,
    ZEROS;

    public static Init parse(String id) {
        return valueOf(id.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
}
