"""Provider interface, registry and the built-in providers."""
