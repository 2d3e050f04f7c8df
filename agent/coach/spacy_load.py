"""Load a spaCy pipeline quickly: without spacy.cli, without a tokenizer built only to be replaced, entry points indexed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BARE = "coach.BareTokenizer.v1"


def import_spacy() -> Any:
    """spacy, imported without its command-line package, which its __init__ pulls in for one re-export (`info`)."""
    import sys

    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    import importlib.util
    import types

    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        import spacy  # the real error, raised by the real import

        return spacy
    # Why: spacy.cli imports typer, weasel and every CLI command, 0.12 s of a 0.5 s load that `coach ask` waits for.
    cli = types.ModuleType("spacy.cli")
    cli.__path__ = [str(Path(next(iter(spec.submodule_search_locations))) / "cli")]
    info = types.ModuleType("spacy.cli.info")

    def _info(*args: Any, **kwargs: Any) -> Any:
        from spacy.cli.info import info as real  # the stand-ins are gone by now: this is the real module

        return real(*args, **kwargs)

    info.info = _info  # type: ignore[attr-defined]
    sys.modules.update({"spacy.cli": cli, "spacy.cli.info": info})
    try:
        import spacy
    finally:
        for name in ("spacy.cli.info", "spacy.cli"):
            if sys.modules.get(name) in (cli, info):
                del sys.modules[name]
    if getattr(spacy, "cli", None) is cli:
        del spacy.cli  # a later `import spacy.cli` then binds the real package
    return spacy



def _bare_tokenizer() -> Any:
    """A tokenizer factory with no rules: the pipeline's own tokenizer file then sets every one of them."""
    from spacy.tokenizer import Tokenizer

    def make(nlp: Any) -> Any:
        return Tokenizer(nlp.vocab)

    return make


def _index_entry_points() -> None:
    """catalogue asks importlib.metadata to select entry points on every registry lookup; group them once."""
    import catalogue

    found = catalogue.AVAILABLE_ENTRY_POINTS
    if hasattr(found, "select"):
        groups: dict[str, list[Any]] = {}
        # Python 3.11 gives a dict of groups (SelectableGroups), 3.12 a flat EntryPoints.
        for point in (p for g in dict.values(found) for p in g) if isinstance(found, dict) else found:
            groups.setdefault(point.group, []).append(point)
        catalogue.AVAILABLE_ENTRY_POINTS = groups  # catalogue reads a dict of lists as well (older Pythons')


def load(model: str, exclude: list[str]) -> Any:
    """spacy.load(model, exclude=exclude), the same pipeline and the same tokens, in about 0.2 s less."""
    spacy = import_spacy()
    _index_entry_points()
    # Why: Language() first builds English's default tokenizer (2,700 special cases, 0.13 s), and from_disk then
    # resets it and loads the model's own; starting from a bare one skips the first build.
    if BARE not in spacy.registry.tokenizers:
        spacy.registry.tokenizers.register(BARE, func=_bare_tokenizer)
    return spacy.load(model, exclude=exclude, config={"nlp": {"tokenizer": {"@tokenizers": BARE}}})
