"""Readable generated run names, like MLflow's ("bold-fox-123")."""

from __future__ import annotations

import random
import uuid

_ADJECTIVES = (
    "able amber ample bold brave bright brisk calm clever cool crisp curious daring deft eager "
    "fair fancy fast fierce gentle glad grand happy honest humble jolly keen kind lively lucky "
    "merry mighty nimble noble polite proud quick quiet rare shy silent sleek smart smiling "
    "steady sunny swift tidy upbeat valiant vivid warm wise witty zealous"
).split()
_NOUNS = (
    "ant bass bat bear bee bird boar cat cod colt crab crane crow deer dog dove duck eagle eel "
    "elk finch fish fly fox frog goat gull hare hawk hen horse jay kite lamb lark lion lynx "
    "mole moth mouse newt owl ox panda pig pony ram rat robin seal shark sheep slug snail "
    "squid stork swan tern toad trout whale wolf worm wren yak"
).split()

_rng = random.SystemRandom()


def generate_run_name() -> str:
    return f"{_rng.choice(_ADJECTIVES)}-{_rng.choice(_NOUNS)}-{_rng.randrange(1000)}"


def new_run_id() -> str:
    """A run id: 32 lowercase hex digits, as MLflow's."""
    return uuid.uuid4().hex
