"""Real-time fan-out: the broker seam (between workers) and the hub (within one worker)."""
