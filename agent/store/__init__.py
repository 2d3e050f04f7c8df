"""Where sessions live: the session store (SQLite or PostgreSQL), records, export, and `coach doctor` checks.

Layer 3 (beside providers and safety, which it does not import): may import agent.core, agent.index and agent.ingest.
"""
