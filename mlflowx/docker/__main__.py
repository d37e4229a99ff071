"""``python -m mlflowx.docker flow-image [--tag IMAGE] [--force]``: build the flow image and
print its tag on stdout (progress goes to stderr); ``infra/build-flow-image.sh`` calls it."""

from __future__ import annotations

import argparse
import sys

from mlflowx.exceptions import MlflowxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlflowx.docker")
    commands = parser.add_subparsers(dest="command", required=True)
    flow = commands.add_parser("flow-image", help="build the Docker work pool's flow image")
    flow.add_argument("--tag", help="image name (default mlflowx-flows:<content digest>)")
    flow.add_argument("--base-image", help="default: $MLFLOWX_BASE_IMAGE")
    flow.add_argument("--force", action="store_true", help="rebuild a present image")
    args = parser.parse_args(argv)

    from mlflowx.docker.flow_image import build_flow_image

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        tag = build_flow_image(args.tag, base_image=args.base_image, force=args.force, progress=say)
    except MlflowxError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
