"""The transparency log: an append-only RFC 6962 Merkle log with C2SP checkpoints and tiles."""
