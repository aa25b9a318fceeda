"""ScalePool: start pool workers on demand (README "Worker pool")."""
