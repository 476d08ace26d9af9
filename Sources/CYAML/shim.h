#ifndef TAILSHIP_CYAML_SHIM_H
#define TAILSHIP_CYAML_SHIM_H
#include <yaml.h>
#endif
