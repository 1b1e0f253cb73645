// Internal spelling of the public thread-pool API (include/ingot/threading.h).
#pragma once

#include "ingot/threading.h"
