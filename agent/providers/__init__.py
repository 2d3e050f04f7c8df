"""Chat models per provider (OpenAI, Anthropic, Ollama, OpenAI-compatible, llama.cpp) and the retry layer.

Layer 3 (beside safety and store, which it does not import): may import agent.core, agent.index and agent.ingest.
"""
