"""Club Hub (Anytime Fitness): webhook payloads and their mapping (docs/clubhub.md)."""
