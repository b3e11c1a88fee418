"""Demo data: the original sample rows and a synthetic growth generator."""

from seed.generate import GenerateResult, generate
from seed.sample import load_sample

DEMO = {"users": 5_000, "posts": 50_000, "days": 90, "seed": 42}

__all__ = ["DEMO", "GenerateResult", "generate", "load_sample"]
