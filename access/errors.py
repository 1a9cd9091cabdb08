"""Errors of shared mode: a broken access config, and an action a role may not take."""
from errors import AtlasError


class ConfigError(AtlasError):
    """The access config is missing, unreadable or invalid, or a change to it was refused.

    The message names the file (and setting), what was expected and how to fix it; it
    never contains a password, a password hash or the signing secret.
    """


class AccessDenied(AtlasError):
    """A signed-in user's role does not allow the action; the message says which role would."""
