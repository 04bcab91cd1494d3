"""Provider interface, registry and the built-in providers."""

__all__: list[str] = []
