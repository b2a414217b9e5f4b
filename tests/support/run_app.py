"""Start the real app with the test hooks installed: ``python tests/support/run_app.py [selflow args]``.

The hooks live with the tests, not in the product; this launcher plugs them into the app.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import app_hooks  # noqa: E402

from selflow_qt.cli import main  # noqa: E402
from selflow_qt.ui import app  # noqa: E402

if __name__ == "__main__":
    app.install_test_hooks(app_hooks)
    # Qt names the X window class after argv[0]: look like the installed `selflow` command.
    sys.argv = ["selflow", *sys.argv[1:]]
    sys.exit(main(sys.argv[1:]))
