"""Data in: one adapter module per utility export format, and the pipeline that stores their rows."""
