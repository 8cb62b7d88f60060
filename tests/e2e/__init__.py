"""End-to-end tests: the real bot process against a local Discord API stand-in on 127.0.0.1."""
