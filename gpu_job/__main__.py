"""`python -m gpu_job ...`: the container entry point."""

import sys

from gpu_job.cli import main

sys.exit(main())
