"""The prompt's history cut depends on the conversation and the budget, never on the random canary."""

from __future__ import annotations

from agent.coach.engine import EngineInput, HistoryItem
from agent.coach.llm_prompt import build_messages, prompt_tokens
from agent.core.prompts import load_prompt
from agent.core.tokens import count_tokens

# 8 and 18 tokens: the cheapest and dearest canaries seen in 20,000 draws
CHEAP, DEAR = "CANARY-0000000000000000", "CANARY-9f8e7d6c5b4a3f2e"


def _input() -> EngineInput:
    history = [HistoryItem(role="user" if i % 2 == 0 else "coach",
                           text=f"Message {i}: my peer in finance keeps blocking the budget and I feel stuck " * 3)
               for i in range(12)]
    return EngineInput(message="I want to open the conversation with her this week.", history=history)


def test_the_history_cut_is_the_same_whatever_the_canary():
    spec = load_prompt("coach", "default")
    assert count_tokens(CHEAP) < count_tokens(DEAR)
    for budget in range(1300, 2200, 37):
        a = build_messages(spec, _input(), canary=CHEAP, budget=budget)
        b = build_messages(spec, _input(), canary=DEAR, budget=budget)
        assert [str(m.content).replace(CHEAP, "C") for m in a] == [str(m.content).replace(DEAR, "C") for m in b]
        assert prompt_tokens(b) <= budget
