"""Pages for admins (/admin): users, branches, feed sources, settings."""
