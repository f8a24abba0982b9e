"""The pause switch: throwing it, reading it, and the notice it sends."""
