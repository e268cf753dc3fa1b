"""Scheduled jobs: the registry, the database lock that lets one scheduler of many run each
job, the record of every run, and `fleet scheduler`."""
