"""``python -m mlflowx``: the ``mlflowx`` command."""

from mlflowx.cli import main

if __name__ == "__main__":
    main()
