import sys

from stacklab.cli import main

sys.exit(main())
