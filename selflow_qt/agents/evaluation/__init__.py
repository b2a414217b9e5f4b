"""Every predictor scored on the same held-out positions (hit@1, MRR, keystrokes
saved), and an agent's margin over the best baseline."""
