"""Import and export of branches, staff, markets, merchants and terminals as CSV or XLSX."""
