"""MoSo (Motionsoft) on the file-feed path: its extract versions as maps (maps/)."""
