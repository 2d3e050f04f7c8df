"""UI features for the Library and Chat pages: uploaded files and the passages shown beside a reply.

Layer 5 (beside brief and peers): may import agent.coach and everything below it.
"""
