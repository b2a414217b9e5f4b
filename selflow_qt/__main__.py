import sys

from selflow_qt.cli import main

sys.exit(main())
