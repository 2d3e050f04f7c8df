"""Evals: YAML cases run through the real Coach, graded deterministically (and optionally by an LLM judge)."""
