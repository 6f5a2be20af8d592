"""The file-feed path: delivered extract files read through a mapping file
(docs/providers/file-feeds.md)."""
