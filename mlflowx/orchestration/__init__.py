"""Prefect-native pipelines: tracked flows and tasks, and the task library."""
