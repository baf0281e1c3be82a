"""The design pipeline (floor 4): its stages, orchestrator, checks, reference designer, evaluation,
steering-effect harness, model opening and the bundled model."""
