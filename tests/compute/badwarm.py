"""A module of task functions whose ``warm_up()`` raises: its tasks fail, the others run."""

from __future__ import annotations


def warm_up() -> None:
    raise RuntimeError("the kernels do not compile")


def one() -> int:
    return 1
