#ifndef CAGENTSHIM_H
#define CAGENTSHIM_H
#include <sys/types.h>
int cagent_placeholder(void);
#endif
