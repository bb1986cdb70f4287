"""Interval meters as they report: expected against actual use, and the inbox watcher."""
