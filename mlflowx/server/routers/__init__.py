"""One router per resource of the MLflow REST API."""
