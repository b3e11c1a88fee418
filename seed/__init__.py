"""Demo data: the original sample rows, a synthetic growth generator and demo messages (seed.messages)."""

from seed.generate import GenerateResult, generate
from seed.sample import load_sample

DEMO = {"users": 5_000, "posts": 50_000, "days": 90, "seed": 42}
# Demo messages (seed.messages): stream records through the real handler, over the same days.
DEMO_MESSAGES = {"messages": 20_000, "days": DEMO["days"], "seed": DEMO["seed"]}

__all__ = ["DEMO", "DEMO_MESSAGES", "GenerateResult", "generate", "load_sample"]
