"""Full-text search. Pure: no I/O.

A sharded engine that reads only what a query needs:
  `text` (folding, stop words, plural stems, a post's weighted terms: `analyze`),
  `shards` (the stored formats, merges, splits, pending entries),
  `query` (parsing, candidates from shards and pending entries, "did you mean"),
  `snippets` (phrase checks, excerpts with <mark>) and
  `engine` (the wiring: `search` for the site; `merge` and `grow` for the rebuild; the storage
  they need as two small protocols, `Source` and `Store`; `MemoryStore`, their model in dicts).

How the blog uses the sharded engine
------------------------------------
Ingest, for a post that is public now (published, date passed), in the post's transaction:
``fields = shards.pending_fields(slug, rev, text.analyze(slug, date, title, tag_names, plain_text))``
and for one that is not (draft, scheduled, deleted, invalid): ``pending_fields(slug, rev, None)``;
write `fields` onto the post's search record with its pending mark set, never touching the
record's `indexed`/`indexed_length`. Keep the post's plain text where `Source.posts` can read it.
When a scheduled post goes live, the rebuild does the same for it.

The site: ``engine.search(source, q)`` -> `Results` (hits with the current item, score and
excerpt; total; exact; suggestion). It raises BadRequest past `query.MAX_QUERY_CHARS`.

The rebuild, each run: ``engine.merge(store)`` (one batch of at most MAX_BATCH_DOCS pending
entries, at most MAX_SHARD_WRITES shards read; a batch cut short resumes next run), then
``engine.grow(store)`` (splits while shards are over their target size, never during a batch;
a merge also grows first, for the batch it is about to add, so shards stay near their target
even through a bulk import; the splits of one round of linear hashing go MERGE_CHUNK at a time,
side by side).

Storage shapes (the bytes and dicts are the engine's; keys and services are the caller's)
-----------------------------------------------------------------------------------------
- manifest: ``{"format", "shards", "docs", "length", "generation", "bytes"}``, all ints: e.g. a
  DynamoDB item or `_search/manifest.json`. Read by every query; written by merges and splits.
- shard n: gzip'd bytes (`encode_shard`), ~SHARD_TARGET_BYTES (8 KiB) on average: e.g. S3
  `_search/shards/<n>`. A query reads about 4-9 of them in at most three parallel rounds.
- batch and progress: gzip'd bytes, present only while a merge is open: e.g. S3
  `_search/batch` (written once per batch) and `_search/progress` (small, rewritten per chunk).
- search record, one per post: ``{"slug", "rev", "day", "length", "terms", "forms", "indexed",
  "indexed_length"}`` (strings and ints; at most about 130 KB by construction: terms and forms
  within text.MAX_DOC_TERMS_BYTES, `indexed` the same terms; 5-20 KB for a post of a few thousand
  words) plus a pending mark (e.g. an attribute keyed by a sparse GSI) while not merged.

Limits
------
The per-query bounds (shards read, postings per term, candidates, pending entries, texts
checked) hold at any size; what grows is the index and the cost of a merge. A post touches
a shard per distinct word, so a batch of more than a few posts rewrites most shards: about
125 MB at 10,000 posts (measured by bench/scale.py), about 1 GB at 100,000. Merge in batches
(each run, or when the pending entries pass ~50), not per post; a one-word query reads its
terms' best MAX_CANDIDATES postings only, so its cost does not grow with the word's frequency. Past ~100,000 posts, or for many edits an hour,
the next step is a second, small "recent" index merged into the main one daily (the same
shards, two generations), or per-term items in DynamoDB so a merge writes only the terms it
touches. See engine.py and query.py for the quality limits (truncated postings, phrases
checked in the best candidates only, English plurals only).
"""
