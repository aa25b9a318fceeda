"""Container parsers by family: exact lengths from headers (mutagen or by hand), FFmpeg for the rest."""
