"""Lambda function package: handler is `backfill_item.app.handler` (Decide and Summarise of a backfill)."""
