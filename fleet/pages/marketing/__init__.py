"""Pages for marketing (/marketing): market ranking and coverage, campaigns."""
