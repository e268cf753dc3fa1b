"""Maps: coverage (terminals, density, markets, branches, white spots), routes, campaigns."""
