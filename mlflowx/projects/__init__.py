"""MLproject files compiled into Prefect flows."""
