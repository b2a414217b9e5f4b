"""The small language model: the base model, its training examples, LoRA training,
adapters, token scoring, and the lines it writes and how far the ranker trusts them."""
