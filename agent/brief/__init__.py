"""The pre-meeting brief for the UI: building it, redacting it, exporting it as Markdown or PDF.

Layer 5 (beside peers and library): may import agent.coach and everything below it.
"""
