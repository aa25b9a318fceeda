"""The `parakeet` command line: try the model on local files, and drive a deployed or local stack.

Modules (the Typer layer is app.py only; everything else is plain functions that return data, so other
commands, scripts and tests can call them):

- ``exits``: the exit codes and the typed errors that map to them.
- ``connect``: boto3 clients for a stack (deployed, or the local one behind an endpoint URL), and the
  stack's names resolved from its CloudFormation outputs.
- ``catalog``: catalog rows (by key, by status) and their executions, as plain dicts.
- ``remote``: upload, status, get, retry and cost against a resolved stack.
- ``local``: transcribe local files with gpu_job (no AWS) and write json/srt/vtt/txt.
- ``render``: one transcript document as srt/vtt/txt/json (the postprocess Lambda's own formatters).
"""
