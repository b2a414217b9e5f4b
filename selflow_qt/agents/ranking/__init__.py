"""What comes next without a model: action keys, the count baselines, the history
they count, candidates, edits, the ranker and the ranking agent; at the prompt, zsh's
strategies, the line scorer and the keystrokes a suggestion saves."""
