"""What the model was told (templates and tool schema), and its answer with any echo of that format text taken out."""

from __future__ import annotations

from typing import Any

from agent.core.prompts import PromptSpec


def descriptions(schema: Any) -> list[str]:
    """Every "description" string in a JSON schema, nested ones included."""
    if isinstance(schema, dict):
        own = [schema["description"]] if isinstance(schema.get("description"), str) else []
        return own + [d for k, v in schema.items() if k != "description" for d in descriptions(v)]
    if isinstance(schema, list):
        return [d for v in schema for d in descriptions(v)]
    return []


def instruction_text(spec: PromptSpec, tool_schema: dict[str, Any] | None = None) -> str:
    """The prompt's templates, variables unfilled, and the tool's field descriptions written as <placeholders>."""
    parts = [spec.system, spec.user, spec.repair]
    # A model echoes a field description the way it echoes a placeholder, so the checks should read it as one.
    parts += [f"<{d}>" for d in dict.fromkeys(descriptions(tool_schema or {}))]
    return "\n".join(p for p in parts if p)


def scrub(value: Any, instructions: str) -> Any:
    """value (parsed model output) with sentences that repeat the prompt's format text removed from every string."""
    from agent.safety.leaks import strip_echoes

    if isinstance(value, str):
        return strip_echoes(value, instructions)[0]
    if isinstance(value, list):
        return [scrub(v, instructions) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, instructions) for k, v in value.items()}
    return value
