"""Transaction feeds: the nightly export of terminal transactions, and a synthetic one."""
