"""Small pure helpers shared by every layer: validation, names, URIs."""
