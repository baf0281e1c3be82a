"""The bundled model's training corpus: projects drawn from the knowledge base (``projects``), requests
written about them in many styles (``requests``, ``phrasings``, ``noise``), and for each request the exact
prompt and answer of every LLM stage, taught by the reference designer (``examples``, with ``retrieval``
batched as the pipeline's); a request too near a benchmark prompt is never written (``holdout``).

    kb = KnowledgeBase.open()
    rows = generate(kb, n_projects=20000, seed=0, split="train")  # identify / reason / synthesize rows
    write_jsonl(rows, path)
"""

from agents.bundled_model.corpus.bounds import BUNDLED_BOUNDS
from agents.bundled_model.corpus.examples import generate, generate_designs
from agents.bundled_model.corpus.jsonl import read_jsonl, write_jsonl

__all__ = ["BUNDLED_BOUNDS", "generate", "generate_designs", "read_jsonl", "write_jsonl"]
