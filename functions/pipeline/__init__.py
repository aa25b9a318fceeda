"""The typed contracts of the pipeline, shared by the Lambdas (`functions/`) and the Batch job (`gpu_job/`).

Depends on pydantic alone, so the GPU image and every Lambda package can ship it: read
`models.py` to know the whole data flow, `settings.py` for every limit and default, `modes.py`
for the one rule that picks an inference mode, `errors.py` for the typed failures.
"""
