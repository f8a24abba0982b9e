"""The weekly failure review and the corrections reviewers keep making."""
