"""Developer tools for maintaining the course (not part of the installed package)."""
