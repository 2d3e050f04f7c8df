"""Evals: YAML cases run through the real Coach, graded deterministically (and optionally by an LLM judge).

Layer 6: may import everything in agent except agent.cli.
"""
