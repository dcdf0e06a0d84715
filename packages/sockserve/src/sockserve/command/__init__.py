"""The ``sockserve`` command: run any handler with any concurrency model, from a shell.

``sockserve serve MODULE:HandlerClass --tcp 127.0.0.1:8000 --model pool``;
``sockserve serve --http [DIR]``; ``sockserve echo``. See ``sockserve --help``.
"""

from ._cli import main as main

__all__ = ["main"]
