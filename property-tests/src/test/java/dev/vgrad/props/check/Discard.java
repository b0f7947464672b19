package dev.vgrad.props.check;

/** Thrown by {@link Property#assume} when a drawn case is outside what the property speaks about. */
final class Discard extends RuntimeException {
    Discard() { super(null, null, false, false); }
}
