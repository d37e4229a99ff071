"""Serving: the scoring server (MLflow's protocol), model images and serving containers."""
