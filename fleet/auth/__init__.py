"""Users, roles, passwords and tokens; builds the Actor that every service call receives."""
