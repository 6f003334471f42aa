/* SPDX-License-Identifier: MIT */
/*
 * A service's state, declared once: api/init.proto's ServiceState numbers it (init's
 * enum svc_state takes those numbers), and this table names it. The names are what
 * runtime/Service.state and osctl services show, and what init logs.
 */
#ifndef BASALT_SVCSTATE_H
#define BASALT_SVCSTATE_H

/* The name of a basalt.init.ServiceState value ("down", "running", ...), "unknown" if none. */
const char *svc_state_name(unsigned state);

#endif
