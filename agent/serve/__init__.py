"""`coach serve`: one resident coach behind a local HTTP API (its own turns and an OpenAI-compatible chat endpoint).

Layer 8, just under cli: may import anything in agent but cli. Nothing is imported here; see server and openai_api.
"""
