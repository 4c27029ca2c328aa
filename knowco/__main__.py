import sys

from knowco.cli import main

sys.exit(main())
