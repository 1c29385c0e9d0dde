"""One process per service: the roles, the supervisor, a role's process (docs/processes.md)."""
