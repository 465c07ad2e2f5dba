"""vision — one offline-first computer-vision suite."""
__version__ = "0.1.0"
