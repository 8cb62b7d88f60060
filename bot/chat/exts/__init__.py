"""Discord extensions: one per area (asking, feedback, moderator commands, privacy)."""
