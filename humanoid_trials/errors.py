"""Root of every humanoid-trials error type; each subpackage's errors.py derives its own from it."""


class TrialsError(Exception):
    """An error with a message meant for the user: the CLI prints it without a traceback."""
