"""What the tray and the shell get: the agents registry, the bandit, the one
leaderboard, suggestions logged and resolved, refits in a child process, and the prompt's
ready answer per shell session."""
