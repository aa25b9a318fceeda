"""Re-exported from contracts.errors while callers move to importing it directly."""

from contracts.errors import (  # noqa: F401
    BAD_INPUT_ERROR_NAMES,
    BAD_INPUT_ERRORS,
    GPU_JOB_EXIT_BAD_INPUT,
    GPU_JOB_EXIT_INTERNAL,
    BadInputError,
    CorruptMedia,
    DurationOutOfRange,
    NoAudioStream,
    NotMedia,
    TransientError,
    UnsupportedInput,
    ZeroByteObject,
)
