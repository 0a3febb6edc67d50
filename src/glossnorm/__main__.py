"""`python -m glossnorm` runs the CLI."""

from glossnorm.cli import main

main()
