"""The imperative shell: orchestrator, workers, timers, sticky cache, registry."""
