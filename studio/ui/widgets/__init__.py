"""Reusable widgets: the parameter form, the layer-stack editor and friends."""
