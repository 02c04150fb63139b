"""The few exception types users see. Each carries one clear sentence; the CLI prints it and exits."""

from __future__ import annotations


class OldFilmError(Exception):
    """Base of every error oldfilm raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class InputError(OldFilmError):
    """The input (file, folder, argument) is missing, unreadable or unusable. CLI exit code 2."""

    exit_code = 2


class UsageError(OldFilmError):
    """Options that contradict each other or are out of range. CLI exit code 2."""

    exit_code = 2


class OutputError(OldFilmError):
    """The output cannot be written (exists, is the input, folder missing, encoder failed). Exit code 2."""

    exit_code = 2


class WeightsError(OldFilmError):
    """Model weights are missing, corrupt, not safetensors, or do not match the model. Exit code 2."""

    exit_code = 2
