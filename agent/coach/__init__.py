"""The coaching conversation: engines, the turn pipeline, GROW state, openers and the coach's banks (data/).

Layer 4: may import agent.core, index, ingest, providers, safety and store.
"""
