# SPDX-License-Identifier: MIT
from shimsim.cli import main

raise SystemExit(main())
