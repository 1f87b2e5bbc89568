"""Full-text search. Pure: no I/O.

Two engines live here while the site moves from one to the other:

- `legacy`: one artifact of every document, loaded whole by the site (`document`,
  `build_artifact`, `SearchIndex`, `Query`, `Hit`, `MAX_QUERY_CHARS`, re-exported below
  for the callers that still use them).
- the sharded engine: `text` (analysis), `shards` (on-disk format, merge, reshard,
  pending entries), `query` (parsing, candidates, "did you mean"), `snippets`
  (phrase checks, highlighted excerpts) and `engine` (the wiring the site and the
  rebuild run, over storage they pass in).
"""
from chalicelib.search.legacy import (  # noqa: F401  (the old callers' names)
    MAX_QUERY_CHARS,
    Hit,
    Query,
    SearchIndex,
    build_artifact,
    document,
    tokenize,
)
