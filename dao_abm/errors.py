"""The one exception type for bad user input."""


class DaoAbmError(ValueError):
    """Bad user input; the CLI prints it as one line and exits with status 2."""
