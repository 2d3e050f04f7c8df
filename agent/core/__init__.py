"""The small core every room may use: shared types, errors, settings, resource paths, tokens, YAML and prompt loading.

Layer 0: imports nothing else in agent.
"""
