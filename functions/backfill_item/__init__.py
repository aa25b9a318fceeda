"""Lambda function package: `backfill_item.app.handler` (Decide) and `backfill_item.app.summarise_handler`
(Summarise) of a backfill."""
