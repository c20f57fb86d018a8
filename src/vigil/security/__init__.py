"""Users, roles, sessions, API tokens, caseload scope, audit log and field encryption."""
