"""The bundled model: its corpus generator, tokenizer and training script (weights in ``weights/``)."""
