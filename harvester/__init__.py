"""The harvester: fetch every member feed, parse, normalise, validate record by record, load."""
