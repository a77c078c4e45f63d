# SPDX-License-Identifier: MIT
"""One module per ``shimsim`` subcommand; see shimsim.cli."""
