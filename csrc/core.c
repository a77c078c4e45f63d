/* SPDX-License-Identifier: MIT */
#include "shimsim.h"

int ss_core_version(void) { return 1; }
