"""The retrieval index: embeddings, generations on disk, the Chroma link, BM25, hybrid retrieval, the LangChain retriever.

Layer 1: may import agent.core only.
"""
