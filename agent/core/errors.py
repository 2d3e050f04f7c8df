"""Errors the user sees as one clear line; anything else is a bug."""


class CoachError(Exception):
    """Base for every expected failure; str(exc) is the one line shown to the user."""


class ConfigError(CoachError, ValueError):
    """A broken configuration file, environment variable or option."""


class IngestError(CoachError):
    """A file that cannot be ingested; the message names the file and the reason."""


class IndexMissing(CoachError):
    """No index where one was expected."""


class ProviderError(CoachError):
    """A model provider failed after retries (timeout, rate limit, server error, bad output)."""


class SessionNotFound(CoachError):
    """An unknown session id."""
