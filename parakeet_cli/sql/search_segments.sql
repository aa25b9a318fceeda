-- parakeet search: the segments that contain a phrase, newest upload of each file only.
-- One text for both engines (parakeet_cli/search.py): Athena (Trino) over the Glue table, DuckDB over
-- the same JSON lines. The table placeholder after FROM is the only substitution: the Glue table, or
-- DuckDB's read_json(...) of the files. Positional parameters, all in WHERE clauses (Athena takes
-- execution parameters nowhere else), in this order:
--   1 since     'yyyy-MM-dd': dt (the UTC transcription date, the partition) on or after it
--   2 phrase    matched case-insensitively anywhere in a segment's text (no LIKE wildcards)
--   3 language  '' for any language ...
--   4 language  ... else the transcript's language code
--   5 speaker   -1 for any speaker ...
--   6 speaker   ... else the 0-based speaker (`--speaker 1` is speaker 0, "Speaker 1" in the subtitles)
--   7 limit     hits at most
WITH scoped AS (
    -- Every upload of a key wrote its own file (a later day's upload lands in a later dt folder), so
    -- rows keep their upload's transcribed_at and only the newest per source_uri is searched. The
    -- window runs over every row in range, before the phrase filter: an older upload's words never
    -- answer for a key whose newest upload lacks them.
    SELECT
        source_uri, etag, segment_id, start_s, end_s, text, channel, speaker, language, transcribed_at,
        max(transcribed_at) OVER (PARTITION BY source_uri) AS newest_at
    FROM {segments}
    WHERE dt >= ?
),
hits AS (
    SELECT
        source_uri, etag, segment_id, start_s, end_s, text, channel, speaker, language, transcribed_at,
        row_number() OVER (ORDER BY source_uri, start_s, segment_id) AS hit_number
    FROM scoped
    WHERE transcribed_at = newest_at
      AND strpos(lower(text), lower(?)) > 0
      AND (? = '' OR language = ?)
      AND (? < 0 OR speaker = ?)
)
SELECT source_uri, etag, segment_id, start_s, end_s, text, channel, speaker, language, transcribed_at
FROM hits
WHERE hit_number <= ?
ORDER BY hit_number
