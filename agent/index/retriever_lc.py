"""LangChain adapter: a BaseRetriever over HybridSearcher, returning Documents with citation metadata."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from agent.core.types import Hit


def hit_to_document(hit: Hit) -> Document:
    c = hit.chunk
    return Document(
        page_content=c.text,
        metadata={
            "source": c.source,
            "title": c.title,
            "chunk": c.chunk,
            "start": c.start,
            "end": c.end,
            "score": hit.score,
            "id": c.id,
            "link": c.link,
        },
    )


class CoachRetriever(BaseRetriever):
    """Retrieves the best `k` chunks from a HybridSearcher (see agent.index.retrieval)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 4

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [hit_to_document(h) for h in self.searcher.search(query, k=self.k)]
