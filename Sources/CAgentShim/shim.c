#include "CAgentShim.h"
int cagent_placeholder(void) { return 0; }
