import sys

from minembed.cli import main

sys.exit(main())
