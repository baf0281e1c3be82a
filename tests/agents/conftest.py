"""Fixtures for pipeline tests: the real knowledge base, a byte-level BPE trained here on the stage
prompts and part data, and tiny random MoE engines built from transformers configs (nothing downloaded).

A random model writes nonsense, which is the point: whatever it writes, the pipeline must finish with
a parseable design over real pins, or a clear reason why not."""

from __future__ import annotations

import pytest
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from agents.orchestrator import Pipeline, PipelineSettings
from agents.prompting import template
from agents.synthesize import GrammarBounds
from components_db.kb import KnowledgeBase
from studio.moe.engine import MoEEngine

EOS = "<|endoftext|>"
# small bounds keep a random model's answers short; real runs use the defaults
TEST_SETTINGS = PipelineSettings(
    max_parts=8,
    identify_tokens=400,
    reason_tokens=24,
    stage_time_limit_s=60,
    grammar=GrammarBounds(max_nets=4, max_pins_per_net=3, max_net_name=6),
    run_spice=True,
)


@pytest.fixture(scope="session")
def pipeline_kb(built_home) -> KnowledgeBase:
    return KnowledgeBase.open(built_home)


@pytest.fixture(scope="session")
def stage_tokenizer(pipeline_kb) -> PreTrainedTokenizerFast:
    return train_stage_tokenizer(pipeline_kb)


def train_stage_tokenizer(kb: KnowledgeBase) -> PreTrainedTokenizerFast:
    texts = [template(stage) for stage in ("identify", "reason", "synthesize")]
    texts += [f"{p.id} {p.name} " + " ".join(pin.name for pin in p.pins) for p in kb.parts()]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(texts * 2, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS)


def tiny_moe(tokenizer: PreTrainedTokenizerFast, seed: int = 0) -> transformers.PreTrainedModel:
    config = transformers.Qwen3MoeConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        num_hidden_layers=2,
        intermediate_size=32,
        moe_intermediate_size=16,
        num_experts=4,
        num_experts_per_tok=2,
        max_position_embeddings=4096,
        initializer_range=0.2,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    return transformers.AutoModelForCausalLM.from_config(config).eval()


@pytest.fixture(scope="session")
def tiny_engine(stage_tokenizer) -> MoEEngine:
    engine = MoEEngine.from_model(tiny_moe(stage_tokenizer), stage_tokenizer, name="tiny-qwen3-moe")
    yield engine
    engine.close()


@pytest.fixture
def pipeline(tiny_engine, pipeline_kb) -> Pipeline:
    """A fresh pipeline (own cache) on the shared tiny engine."""
    return Pipeline(tiny_engine, pipeline_kb, TEST_SETTINGS)
