"""The peer map for the UI: working relationships placed by how vital and how good they are.

Layer 5 (beside brief and library): may import agent.coach and everything below it.
"""
