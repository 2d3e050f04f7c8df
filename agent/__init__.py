"""Socratic leadership coach: grounded retrieval, Socratic turns, openers, memory and evals."""

__version__ = "0.1.0"
