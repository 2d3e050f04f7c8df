"""`coach search QUERY`: hybrid search over the index, as a readable list or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from agent.cli.common import friendly

SNIPPET = 280  # characters of each hit shown in the human output


def hit_record(hit: Any) -> dict[str, Any]:
    """The JSON shape of one hit: the contract's keys first, then ranks and ids for debugging."""
    c = hit.chunk
    return {
        "source": c.source,
        "title": c.title,
        "chunk": c.chunk,
        "score": round(hit.score, 6),
        "text": c.text,
        "start": c.start,
        "end": c.end,
        "id": c.id,
        "link": c.link,
        "dense_rank": hit.dense_rank,
        "sparse_rank": hit.sparse_rank,
    }


def _print_human(query: str, hits: list[Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    if not hits:
        console.print(f"No passages match [bold]{escape(query)}[/bold].")
        return
    for n, hit in enumerate(hits, 1):
        c = hit.chunk
        ranks = ", ".join(
            f"{name} #{r}" for name, r in (("dense", hit.dense_rank), ("bm25", hit.sparse_rank)) if r
        )
        snippet = " ".join(c.text.split())
        if len(snippet) > SNIPPET:
            snippet = snippet[:SNIPPET].rsplit(" ", 1)[0] + " …"
        console.print(
            f"[bold]{n}. {escape(c.title or c.source)}[/bold]  [dim]{escape(c.source)} "
            f"chunk {c.chunk} · score {hit.score:.4f}{' · ' + ranks if ranks else ''}[/dim]"
        )
        console.print(f"   {escape(snippet)}\n", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command("search")
    @friendly
    def search(
        query: str = typer.Argument(..., help="What to look for."),
        index: Path | None = typer.Option(None, "--index", help="Index folder (default: COACH_HOME/index)."),
        k: int | None = typer.Option(None, "--k", min=1, max=50, help="How many passages (default: top_k)."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list, best first."),
        mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25."),
    ) -> None:
        """Find the passages that best match QUERY (dense + BM25, fused)."""
        from agent.cli.common import settings_from
        from agent.core.errors import ConfigError, IndexMissing
        from agent.index.generations import Index
        from agent.index.retrieval import MODES, HybridSearcher
        from agent.ingest.bundled import open_searcher

        if mode not in MODES:
            raise ConfigError(f"unknown --mode {mode!r}; choose one of {', '.join(MODES)}")
        settings = settings_from()
        if index is not None:
            # An explicit index is searched as it is: never filled with the bundled corpus behind your back.
            opened = Index.open(settings, index, create=False)
            if not opened.sources():
                raise IndexMissing(
                    f"index at {index} is empty; add files with `coach ingest PATH --index {index}`"
                )
            searcher = HybridSearcher(opened, settings, mode=mode)  # type: ignore[arg-type]
        else:
            searcher = open_searcher(settings, mode=mode)  # type: ignore[arg-type]
        hits = searcher.search(query, k=k or settings.top_k)
        if as_json:
            typer.echo(json.dumps([hit_record(h) for h in hits], ensure_ascii=False, indent=1))
        else:
            _print_human(query, hits)
