"""An example signalbench plugin: :class:`EWMARidge` (registered as ``ewma_ridge``)."""

from signalbench_ewma.model import EWMARidge

__all__ = ["EWMARidge"]
