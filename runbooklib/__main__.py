import sys

from runbooklib.cli import main

sys.exit(main())
