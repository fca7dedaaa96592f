import sys

from observe.cli import main

sys.exit(main())
