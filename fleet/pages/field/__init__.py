"""Pages for field staff (/field): today's visits, recording outcomes."""
