"""Shared page furniture: the sidebar, error handling, freshness lines, downloads."""
