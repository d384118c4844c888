"""Grade Jupyter notebook exercises: student code runs in a jailed kernel, answers cross back
as plain data, and a pack's pytest checks judge them in the grader's own process."""

__version__ = "0.2.0"

__all__ = ["__version__"]
