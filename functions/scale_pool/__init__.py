"""ScalePool: start pool workers on demand (docs/POOL.md)."""
