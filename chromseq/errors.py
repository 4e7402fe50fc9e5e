"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""


class ChromseqError(Exception):
    """A problem with the user's input (file, config, option) that deserves a one-line message.

    Raise it with a message that names the file or field and says what was expected;
    the CLI prints ``error: <message>`` and exits with status 2, no traceback
    (``chromseq --debug`` shows it).
    """
