"""Errors the appliance raises on purpose.

Every error carries a `hint`: one sentence telling the operator what to do about it. The CLI prints
`message` and `hint`; nothing else (no stack trace) unless `--debug` is given.
"""

from __future__ import annotations


class ApplianceError(Exception):
    """Base of every deliberate error. `hint` says what the operator should do next."""

    hint: str = ""
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        """The error text without the hint."""
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(ApplianceError):
    """The configuration file or environment is wrong."""

    hint = "Fix the setting named above in appliance.toml or the environment, then start again."
    exit_code = 2


class CatalogError(ApplianceError):
    """A tool specification breaks a rule of the catalog (raised at import time)."""

    hint = "Fix the ToolSpec named above; the catalog refuses to load until it is valid."


class UnknownToolError(CatalogError):
    """A tool name that is not in the (enabled) catalog."""

    hint = "Only catalog tools can run; see `appliance catalog` for the enabled ones."


class ToolArgumentsError(CatalogError):
    """Arguments that do not validate against the tool's schema."""

    hint = "The call was refused before anything ran; nothing was changed."


class GrammarError(ApplianceError):
    """The catalog could not be turned into a constraint (a schema shape the grammar cannot express)."""

    hint = "Use one of the string shapes in appliance/catalog/shapes.py for the argument named above."


class ModelError(ApplianceError):
    """The model file is missing, unreadable or failed to load."""

    hint = "Run `appliance models fetch` (or put the model named in models/manifest.toml in place)."


class ModelIntegrityError(ModelError):
    """The model file's sha256 does not match the manifest: it is never loaded."""

    hint = "Delete the file and run `appliance models fetch` again; never edit the pinned sha256 to match."


class EngineBusy(ApplianceError):
    """Too many turns already wait for the model; this one was not queued (nothing was changed)."""

    hint = "Send the message again in a minute. Operators: raise engine.queue_limit or engine.batch_size."


class ConstraintViolation(ApplianceError):
    """The decoder produced output the catalog does not accept. This is a bug, never a model error."""

    hint = "Report it with the message that caused it; the output was discarded and nothing ran."
