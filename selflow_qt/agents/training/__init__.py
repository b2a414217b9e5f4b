"""Training sessions (the queue, the runner) and the training child that core.supervisor
runs; eval_stream runs the same child on any event stream for `selflow eval`."""
