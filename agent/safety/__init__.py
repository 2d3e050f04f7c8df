"""The guardrails: rule and lexicon checks, the meaning-based crisis stage, leak checks and the second-opinion classifier.

Layer 3 (beside providers and store, which it does not import): may import agent.core, agent.index and agent.ingest.
"""
