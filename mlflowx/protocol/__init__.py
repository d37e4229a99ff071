"""The wire protocol: MLflow's REST API shapes and endpoints, shared by server and client."""
