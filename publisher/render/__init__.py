"""Turning post sources into HTML."""
