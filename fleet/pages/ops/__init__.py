"""Pages for branch operations (/ops): KPIs, recovery approvals, search, plans, ingests."""
