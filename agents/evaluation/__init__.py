"""How well a system turns the benchmark requests into designs: ``benchmark`` (the prompt files),
``outcome`` (what a system answered), ``scoring`` (per-prompt metrics and their aggregates) and ``run``
(every prompt through every system). The rule-based baseline the pipeline is compared with is
``agents.reference.baseline``."""
