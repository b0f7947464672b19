package dev.vgrad.props.check;

import java.util.function.Function;

/** A generator: draws a value from a {@link Source}. Compose with {@link #map} and {@link #flatMap}. */
@FunctionalInterface
public interface Gen<T> {
    T draw(Source s);

    default <U> Gen<U> map(Function<? super T, ? extends U> f) { return s -> f.apply(draw(s)); }

    /** Draw a value, then a value that depends on it (a shape first, then data of that shape). */
    default <U> Gen<U> flatMap(Function<? super T, Gen<U>> f) { return s -> f.apply(draw(s)).draw(s); }
}
