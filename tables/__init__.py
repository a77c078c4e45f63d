# SPDX-License-Identifier: MIT
# Package marker: tables/ is installed as shimsim._tables (see pyproject.toml).
