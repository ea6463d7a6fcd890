"""Deterministic generators of realistic sample datasets."""
