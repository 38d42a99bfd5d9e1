"""Experiments: runs that write a run folder (config.json, results.csv, summary.md, plots/)."""
