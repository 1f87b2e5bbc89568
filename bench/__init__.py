"""`make bench` (python -m bench): what the blog exists for, measured side by side in one run.

One module per figure group (calls, listing, render, startup, ingest, throughput, package);
bench.timing measures, bench.figures reports, bench.world is the in-process AWS they share.
"""
