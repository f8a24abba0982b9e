"""Turning clicks into decisions: claims grouped before the ack, decisions recorded after."""
