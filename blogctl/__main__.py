"""`python -m blogctl …`: see blogctl/cli.py."""
import sys

from blogctl.cli import main

sys.exit(main())
