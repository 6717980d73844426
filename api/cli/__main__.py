"""`python -m api.cli`, the same as `herald`."""

from api.cli import main

main()
