"""`python -m parakeet_cli ...`: the `parakeet` console script without installing it."""

from parakeet_cli.app import main

main()
